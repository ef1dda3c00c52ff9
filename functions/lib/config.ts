import { parseAllowedOrigins } from '../../shared/domain/endpoint-rules.js';
import { readWebhookConfig, type WebhookConfig } from './webhook-config.js';

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
    /** Single PUT/POST upload URLs: create-once, and only as long as a browser needs to start. */
    uploadUrlTtlSeconds: number;
    /** Multipart part URLs (all issued at initiation until parts come on demand). */
    partUrlTtlSeconds: number;
    downloadUrlTtlSeconds: number;
  };
  /**
   * The second wall (AWS): each request's S3 and DynamoDB calls run with STS credentials
   * narrowed to its tenant. Null where no STS exists (the local stack): the same code path
   * then runs with the process's own credentials.
   */
  tenantIsolation: {
    /**
     * `TENANT_ROLE_ARN`: the role sessions are opened on, tagged `tenant={id}`; its own policy
     * scopes every resource by that tag, so no session policy is sent.
     */
    roleArn: string;
  } | null;
  /** Keep rejected objects under `quarantine/` instead of deleting them. */
  /**
   * `CHECKSUM_FUNCTION_NAME`: the verify-checksum function, invoked asynchronously with
   * `{ tenantId, fileId }` for a declared sha256 too big to check in a request. Unset: the check
   * runs in this process, in the background (outside Lambda).
   */
  checksumFunctionName: string | null;
  /** Running in Lambda (`AWS_LAMBDA_FUNCTION_NAME`), where nothing runs once a function answered. */
  inLambda: boolean;
  quarantineRejected: boolean;
  /**
   * `FILESTORE_ALLOWED_ENDPOINTS` (comma-separated `scheme://host[:port]`), canonical: origins a
   * tenant's provider endpoint may name over plain http or at any address (API.md section 13.7).
   * Exact match; every other endpoint must be https on public addresses. Tenants cannot change it.
   */
  allowedEndpoints: readonly string[];
  /** Webhooks and the event bus (API.md 13.5): webhook-config.ts. */
  webhooks: WebhookConfig;
  previews: {
    /** `PREVIEW_WIDTH`: every preview's width in pixels. */
    width: number;
    /** `PREVIEW_CACHE_MAX_AGE` (ms): entries older than this expire (S3 lifecycle: whole days, rounded up). */
    maxAgeMs: number;
    /** `PREVIEW_CACHE_MAX_SIZE` (bytes): each tenant's cache is trimmed to this, least recently used first. */
    maxCacheBytes: number;
    /** `PREVIEW_RENDER_TIMEOUT_MS`: a render that takes longer fails with reason `timeout`. */
    renderTimeoutMs: number;
    /** `PREVIEW_MAX_SOURCE_BYTES`: larger files are not read for a preview (reason `too-large`). */
    maxSourceBytes: number;
    /**
     * `PREVIEW_AHEAD`: render PDFs and images when they become active, in this process
     * (`in-process`, the default outside Lambda), by an asynchronous invocation of the render
     * function (`lambda`, with `RENDER_FUNCTION_NAME`), or not at all (`off`, the default in
     * Lambda, where a function is frozen once it has answered).
     */
    ahead: 'in-process' | 'lambda' | 'off';
    /** `RENDER_FUNCTION_NAME`: the function `PREVIEW_AHEAD=lambda` invokes with `{ tenantId, fileId }`. */
    renderFunctionName: string | null;
    /**
     * `PREVIEW_ON_DEMAND`: a preview asked for and not cached is drawn while the request waits
     * (`render`, the default), or handed to the scheduler and answered 202 with Retry-After
     * (`schedule`: the API Lambda, which ships no renderer).
     */
    onDemand: 'render' | 'schedule';
    /**
     * `PREVIEW_ISOLATION`: draw in child processes (`process`, the default: a file that crashes
     * the native canvas code cannot take the service down, and the time limit is a kill) or in
     * this process (`none`, for trusted input only).
     */
    isolation: 'process' | 'none';
    /** `PREVIEW_RENDER_PROCESSES`: child processes drawing at once. */
    renderProcesses: number;
    /**
     * `PREVIEW_RENDER_MAX_MEMORY_MB`: memory each render process may use (its data segment is
     * limited to it and it is killed above it as resident memory); a file that needs more fails
     * with reason `resource-limit`. The default leaves the parent room in a 1024 MB function.
     */
    renderMaxMemoryBytes: number;
    /** `PREVIEW_HOST_MODULE`: the bundled `render-host` module, when it is not beside the renderer. */
    hostModule: string | null;
    /**
     * `PREVIEW_BROWSER`: `auto` (the default) draws SVG, text, Markdown, CSV and HTML with
     * Chromium where one can be had without a download (`CHROMIUM_PATH`, or the binary inside
     * @sparticuz/chromium); `off` never starts a browser (those types answer 415); `lambda`
     * leaves them to the browser render function (`BROWSER_RENDER_FUNCTION_NAME`, with
     * `PREVIEW_AHEAD=lambda`): the AWS render function is arm64, and @sparticuz/chromium's npm
     * package carries an x86_64 Chromium only.
     */
    browser: 'auto' | 'off' | 'lambda';
    /** `BROWSER_RENDER_FUNCTION_NAME`: where `PREVIEW_BROWSER=lambda` sends SVG, text and HTML. */
    browserFunctionName: string | null;
    /** `CHROMIUM_PATH`: a Chromium binary, e.g. Debian's /usr/bin/chromium. */
    chromiumPath: string | null;
  };
  /**
   * API.md 13.6, the malware scanner: ClamAV's clamd (`CLAMD_SOCKET`, or `CLAMD_HOST` with
   * `CLAMD_PORT`, default 3310; `CLAMD_TIMEOUT_MS`), or GuardDuty Malware Protection for S3
   * (`MALWARE_SCANNER=guardduty`, set by the construct that enables the plan). Null: none, and no
   * bucket may require a scan.
   */
  malwareScanner:
    | {
        kind: 'clamd';
        address: { socket: string } | { host: string; port: number };
        timeoutMs: number;
        /** clamd's StreamMaxLength, in bytes (`CLAMD_STREAM_MAX_BYTES`, default 25 MiB as clamd's). */
        maxStreamBytes: number;
      }
    | { kind: 'guardduty' }
    | null;
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

function tenantIsolation(env: Env): StowageConfig['tenantIsolation'] {
  const roleArn = env.TENANT_ROLE_ARN;
  if (!roleArn) return null;
  return { roleArn };
}

/**
 * A URL dies with the credentials that signed it, and a tenant's STS session (role chaining)
 * lasts at most an hour: URLs longer than half of it would make every request renew it.
 */
const MAX_URL_TTL_WITH_TENANT_SESSIONS = 1800;

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
      uploadUrlTtlSeconds: int(env, 'FILESTORE_UPLOAD_URL_TTL_SECONDS', 600, 60),
      // As low as a second, so a test can watch part URLs expire mid-upload.
      partUrlTtlSeconds: int(env, 'FILESTORE_PART_URL_TTL_SECONDS', 3600, 1),
      downloadUrlTtlSeconds: int(env, 'FILESTORE_DOWNLOAD_URL_TTL_SECONDS', 300, 1),
    },
    tenantIsolation: tenantIsolation(env),
    quarantineRejected: bool(env, 'FILESTORE_QUARANTINE_REJECTED', true),
    checksumFunctionName: env.CHECKSUM_FUNCTION_NAME || null,
    inLambda: Boolean(env.AWS_LAMBDA_FUNCTION_NAME),
    allowedEndpoints: allowedEndpoints(env),
    webhooks: readWebhookConfig(
      env,
      (name, fallback, min) => int(env, name, fallback, min),
      (m) => new ConfigError(m),
    ),
    previews: {
      width: int(env, 'PREVIEW_WIDTH', 800, 16),
      maxAgeMs: int(env, 'PREVIEW_CACHE_MAX_AGE', 604_800_000, 1),
      maxCacheBytes: int(env, 'PREVIEW_CACHE_MAX_SIZE', 5 * GiB, 0),
      renderTimeoutMs: int(env, 'PREVIEW_RENDER_TIMEOUT_MS', 20_000, 100),
      maxSourceBytes: int(env, 'PREVIEW_MAX_SOURCE_BYTES', 100 * MiB, 1),
      ahead: previewAhead(env),
      renderFunctionName: env.PREVIEW_AHEAD === 'lambda' ? str(env, 'RENDER_FUNCTION_NAME') : null,
      onDemand: previewOnDemand(env),
      isolation: oneOf(env, 'PREVIEW_ISOLATION', ['process', 'none'] as const, 'process'),
      renderProcesses: int(env, 'PREVIEW_RENDER_PROCESSES', 1, 1),
      renderMaxMemoryBytes: int(env, 'PREVIEW_RENDER_MAX_MEMORY_MB', 768, 128) * MiB,
      hostModule: env.PREVIEW_HOST_MODULE || null,
      browser: previewBrowser(env),
      browserFunctionName: env.PREVIEW_BROWSER === 'lambda' ? str(env, 'BROWSER_RENDER_FUNCTION_NAME') : null,
      chromiumPath: env.CHROMIUM_PATH || null,
    },
    malwareScanner: malwareScanner(env),
    secrets: env.SECRETS_PREFIX
      ? { kind: 'secrets-manager', prefix: env.SECRETS_PREFIX }
      : {
          kind: 'local-file',
          dataDir: str(env, 'FILESTORE_DATA_DIR', '.data'),
          keyBase64: env.FILESTORE_SECRET_KEY || null,
        },
  };
  if (config.tenantIsolation) {
    const { uploadUrlTtlSeconds, partUrlTtlSeconds, downloadUrlTtlSeconds } = config.limits;
    const longest = Math.max(uploadUrlTtlSeconds, partUrlTtlSeconds, downloadUrlTtlSeconds);
    if (longest > MAX_URL_TTL_WITH_TENANT_SESSIONS)
      throw new ConfigError(
        `With TENANT_ROLE_ARN, presigned URLs may live at most ${MAX_URL_TTL_WITH_TENANT_SESSIONS} s ` +
          `(tenant sessions last an hour); FILESTORE_*_URL_TTL_SECONDS asks for ${longest} s.`,
      );
  }
  return config;
}

function allowedEndpoints(env: Env): readonly string[] {
  const parsed = parseAllowedOrigins(env.FILESTORE_ALLOWED_ENDPOINTS ?? '');
  if ('bad' in parsed)
    throw new ConfigError(
      `FILESTORE_ALLOWED_ENDPOINTS entries must be scheme://host[:port] (http or https, nothing after), got "${parsed.bad}".`,
    );
  return parsed.origins;
}

function malwareScanner(env: Env): StowageConfig['malwareScanner'] {
  const kind = oneOf(env, 'MALWARE_SCANNER', ['clamd', 'guardduty', 'off'] as const, 'clamd');
  if (kind === 'off') return null;
  if (kind === 'guardduty') return { kind };
  const socket = env.CLAMD_SOCKET || null;
  const host = env.CLAMD_HOST || null;
  if (socket && host) throw new ConfigError('Set CLAMD_SOCKET or CLAMD_HOST (with CLAMD_PORT), not both.');
  const timeoutMs = int(env, 'CLAMD_TIMEOUT_MS', 60_000, 100);
  const maxStreamBytes = int(env, 'CLAMD_STREAM_MAX_BYTES', 25 * 1024 * 1024, 1);
  if (socket) return { kind: 'clamd', address: { socket }, timeoutMs, maxStreamBytes };
  if (host)
    return {
      kind: 'clamd',
      address: { host, port: int(env, 'CLAMD_PORT', 3310, 1) },
      timeoutMs,
      maxStreamBytes,
    };
  if (env.MALWARE_SCANNER === 'clamd')
    throw new ConfigError('MALWARE_SCANNER=clamd needs CLAMD_SOCKET or CLAMD_HOST (with CLAMD_PORT).');
  return null;
}

function oneOf<T extends string>(env: Env, name: string, values: readonly T[], fallback: T): T {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if ((values as readonly string[]).includes(raw)) return raw as T;
  throw new ConfigError(`Environment variable ${name} must be one of ${values.join(', ')}, got "${raw}".`);
}

/** In Lambda a function is frozen once it has answered, so nothing is rendered "afterwards" there. */
const previewAhead = (env: Env) =>
  oneOf(
    env,
    'PREVIEW_AHEAD',
    ['in-process', 'lambda', 'off'] as const,
    env.AWS_LAMBDA_FUNCTION_NAME ? 'off' : 'in-process',
  );

/** The browser of another function is reached by invoking it: only with Lambda scheduling. */
function previewBrowser(env: Env): StowageConfig['previews']['browser'] {
  const browser = oneOf(env, 'PREVIEW_BROWSER', ['auto', 'off', 'lambda'] as const, 'auto');
  if (browser === 'lambda' && previewAhead(env) !== 'lambda')
    throw new ConfigError(
      'PREVIEW_BROWSER=lambda needs PREVIEW_AHEAD=lambda (and BROWSER_RENDER_FUNCTION_NAME).',
    );
  return browser;
}

/** Scheduling on demand needs something to schedule with. */
function previewOnDemand(env: Env): StowageConfig['previews']['onDemand'] {
  const onDemand = oneOf(env, 'PREVIEW_ON_DEMAND', ['render', 'schedule'] as const, 'render');
  if (onDemand === 'schedule' && previewAhead(env) === 'off')
    throw new ConfigError('PREVIEW_ON_DEMAND=schedule needs PREVIEW_AHEAD=lambda or in-process.');
  return onDemand;
}
