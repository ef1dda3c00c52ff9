/**
 * The deployment's configuration, read once per cold start from the environment by each
 * entry point and passed down. Nothing else reads `process.env`.
 */
export interface StowageConfig {
  region: string;
  tableName: string;
  /** The deployment's own bucket: the `default` provider's storage. */
  uploadsBucket: string;
  /** Where rendered previews are cached (issue 4); the uploads bucket when unset. */
  previewBucket: string;
  s3: {
    /** Set for MinIO or the embedded store; unset for AWS S3. */
    endpoint: string | null;
    forcePathStyle: boolean;
    credentials: { accessKeyId: string; secretAccessKey: string } | null;
    /** The embedded store: path-style quirk, and no checksum support (verify sha256 by reading). */
    embedded: boolean;
    /** An endpoint browsers use for presigned URLs, when it differs from the server's. */
    publicEndpoint: string | null;
  };
  dynamo: {
    endpoint: string | null;
    credentials: { accessKeyId: string; secretAccessKey: string } | null;
  };
  jwt: {
    tenantClaim: string;
    rolesClaim: string;
  };
  limits: {
    /** The deployment's ceiling for any bucket's maxFileSize. */
    maxFileSize: number;
    /** Above this size uploads are multipart. */
    multipartThreshold: number;
    minPartSize: number;
    uploadUrlTtlSeconds: number;
    downloadUrlTtlSeconds: number;
  };
  /** Keep rejected objects under `quarantine/` instead of deleting them. */
  quarantineRejected: boolean;
  secrets:
    | { kind: 'local-file'; dataDir: string; keyBase64: string | null }
    | { kind: 'secrets-manager'; prefix: string };
}

type Env = Readonly<Record<string, string | undefined>>;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

function str(env: Env, name: string, fallback?: string): string {
  const value = env[name];
  if (value !== undefined && value !== '') return value;
  if (fallback !== undefined) return fallback;
  throw new ConfigError(`Environment variable ${name} is required.`);
}

function int(env: Env, name: string, fallback: number, min = 0): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min)
    throw new ConfigError(`Environment variable ${name} must be an integer >= ${min}, got "${raw}".`);
  return value;
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (/^(1|true|yes)$/i.test(raw)) return true;
  if (/^(0|false|no)$/i.test(raw)) return false;
  throw new ConfigError(`Environment variable ${name} must be true or false, got "${raw}".`);
}

function pair(env: Env, idName: string, secretName: string) {
  const accessKeyId = env[idName];
  const secretAccessKey = env[secretName];
  if (!accessKeyId && !secretAccessKey) return null;
  if (!accessKeyId || !secretAccessKey)
    throw new ConfigError(`Set both ${idName} and ${secretName}, or neither.`);
  return { accessKeyId, secretAccessKey };
}

export function readConfig(env: Env): StowageConfig {
  const uploadsBucket = str(env, 'UPLOADS_BUCKET', env.S3_BUCKET);
  const endpoint = env.S3_ENDPOINT || null;
  const config: StowageConfig = {
    region: str(env, 'AWS_REGION', 'us-east-1'),
    tableName: str(env, 'TABLE_NAME'),
    uploadsBucket,
    previewBucket: str(env, 'PREVIEW_BUCKET', uploadsBucket),
    s3: {
      endpoint,
      forcePathStyle: bool(env, 'S3_FORCE_PATH_STYLE', endpoint !== null),
      credentials: pair(env, 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY'),
      embedded: bool(env, 'S3_EMBEDDED', false),
      publicEndpoint: env.S3_PUBLIC_ENDPOINT || null,
    },
    dynamo: {
      endpoint: env.DYNAMODB_ENDPOINT || null,
      credentials: pair(env, 'DYNAMODB_ACCESS_KEY_ID', 'DYNAMODB_SECRET_ACCESS_KEY'),
    },
    jwt: {
      tenantClaim: str(env, 'JWT_TENANT_CLAIM', 'tenant_id'),
      rolesClaim: str(env, 'JWT_ROLES_CLAIM', 'roles'),
    },
    limits: {
      maxFileSize: int(env, 'FILESTORE_MAX_FILE_SIZE', 5 * GiB, 1),
      multipartThreshold: int(env, 'FILESTORE_MULTIPART_THRESHOLD', 100 * MiB, 5 * MiB),
      minPartSize: int(env, 'FILESTORE_MIN_PART_SIZE', 8 * MiB, 5 * MiB),
      uploadUrlTtlSeconds: int(env, 'FILESTORE_UPLOAD_URL_TTL_SECONDS', 3600, 60),
      downloadUrlTtlSeconds: int(env, 'FILESTORE_DOWNLOAD_URL_TTL_SECONDS', 300, 1),
    },
    quarantineRejected: bool(env, 'FILESTORE_QUARANTINE_REJECTED', true),
    secrets: env.SECRETS_PREFIX
      ? { kind: 'secrets-manager', prefix: env.SECRETS_PREFIX }
      : {
          kind: 'local-file',
          dataDir: str(env, 'FILESTORE_DATA_DIR', '.data'),
          keyBase64: env.FILESTORE_SECRET_KEY || null,
        },
  };
  return config;
}
