import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { ConfigError, readConfig, type StowageConfig } from '../functions/lib/config.js';
import type { AuthorizerOptions } from './authorizer.js';
import { DEFAULT_DEV_SECRET } from './dev-token.js';

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Everything the local stack decides, read once from the environment by `npm start` (and the
 * local CLIs). `service` is the deployment's own config with the local stack's names as
 * defaults; the stack overrides its storage fields once the embedded servers are up.
 */
export interface LocalConfig {
  /** `FILESTORE_HOST` (or `HOST`): where the API and the embedded servers listen. */
  host: string;
  /** `PORT`: the API. 0 picks a free port. */
  port: number;
  /** `FILESTORE_DATA_DIR`, absolute. */
  dataDir: string;
  /** `FILESTORE_MAINTENANCE_INTERVAL_MS`: 0 turns the timer off. */
  maintenanceIntervalMs: number;
  /**
   * `FILESTORE_CORS_ORIGINS`: browser origins the API and the embedded store answer CORS for,
   * besides the API's own (`http://127.0.0.1:PORT`, `http://localhost:PORT`: the demo page
   * uploads from there), which the stack adds once it listens.
   */
  corsOrigins: string[];
  /**
   * `FILESTORE_CREATE_MISSING`: create missing buckets and the table on external servers
   * (`S3_ENDPOINT`, `DYNAMODB_ENDPOINT`) instead of stopping with what to create.
   */
  createMissing: boolean;
  /** `FILESTORE_ALLOW_EMBEDDED_S3_PROVIDER`: add the embedded store's origin to `allowedEndpoints`. */
  allowEmbeddedS3Provider: boolean;
  auth: AuthorizerOptions;
  /**
   * The share-link route's per-address token bucket (API.md 13.4): `FILESTORE_SHARED_RATE_PER_SECOND`
   * (default 5) refills it, `FILESTORE_SHARED_BURST` (default 100) is its size.
   */
  sharedLinkRate: { ratePerSecond: number; burst: number };
  /** The embedded store on `S3_PORT`, or the server `S3_ENDPOINT` names (in `service.s3`). */
  s3: { kind: 'embedded'; port: number } | { kind: 'external' };
  /** DynamoDB Local on `DYNAMODB_PORT`, or the server `DYNAMODB_ENDPOINT` names (in `service.dynamo`). */
  dynamo: { kind: 'embedded'; port: number; inMemory: boolean } | { kind: 'external' };
  service: StowageConfig;
}

/** The local stack's names, under whatever the environment sets. */
const LOCAL_NAMES = { TABLE_NAME: 'stowage', PREVIEW_BUCKET: 'stowage-previews' } as const;

export function readLocalConfig(env: Env): LocalConfig {
  const dataDir = resolve(env.FILESTORE_DATA_DIR || '.data');
  const service = readConfig({
    ...LOCAL_NAMES,
    UPLOADS_BUCKET: env.S3_BUCKET || 'stowage-uploads',
    ...definedOnly(env),
  });
  const listenOn = host(env);
  const tokens = auth(env);
  if (!isLoopbackHost(listenOn) && tokens.kind === 'dev' && tokens.secret === DEFAULT_DEV_SECRET)
    // The default secret is in this repository: anyone who can reach the API could sign an
    // admin token of any tenant.
    throw new ConfigError(
      `Listening on ${listenOn} exposes the API beyond this machine, and its tokens would be signed with the built-in FILESTORE_DEV_JWT_SECRET that anyone can read in the source. Set JWT_JWKS_URL and JWT_ISSUER to take tokens from your identity provider, or FILESTORE_DEV_JWT_SECRET to a long random secret of your own (dev tokens at /local/token are then issued to loopback callers only).`,
    );
  return {
    host: listenOn,
    port: port(env, 'PORT', 3000),
    dataDir,
    maintenanceIntervalMs: int(env, 'FILESTORE_MAINTENANCE_INTERVAL_MS', 60_000),
    corsOrigins: origins(env, 'FILESTORE_CORS_ORIGINS'),
    createMissing: bool(env, 'FILESTORE_CREATE_MISSING', false),
    allowEmbeddedS3Provider: bool(env, 'FILESTORE_ALLOW_EMBEDDED_S3_PROVIDER', false),
    auth: tokens,
    sharedLinkRate: {
      ratePerSecond: positive(env, 'FILESTORE_SHARED_RATE_PER_SECOND', 5),
      burst: positive(env, 'FILESTORE_SHARED_BURST', 100),
    },
    s3: env.S3_ENDPOINT ? { kind: 'external' } : { kind: 'embedded', port: port(env, 'S3_PORT', 4569) },
    dynamo: env.DYNAMODB_ENDPOINT
      ? { kind: 'external' }
      : {
          kind: 'embedded',
          port: port(env, 'DYNAMODB_PORT', 8000),
          inMemory: bool(env, 'FILESTORE_DYNAMODB_IN_MEMORY', false),
        },
    service: {
      ...service,
      secrets: service.secrets.kind === 'local-file' ? { ...service.secrets, dataDir } : service.secrets,
    },
  };
}

/** 127.0.0.0/8, ::1 and localhost: addresses no other machine reaches. */
export function isLoopbackHost(address: string): boolean {
  return (
    address === 'localhost' ||
    address === '::1' ||
    /^127\.\d+\.\d+\.\d+$/.test(address) ||
    address === '::ffff:127.0.0.1'
  );
}

/** The origins a browser sees for an API listening on `host:port`. */
export function ownOrigins(host: string, port: number): string[] {
  // As the browser writes them: `new URL` drops a default port (80).
  const origin = (name: string) => new URL(`http://${isIP(name) === 6 ? `[${name}]` : name}:${port}`).origin;
  const names = [
    '127.0.0.1',
    'localhost',
    ...(['127.0.0.1', 'localhost', '0.0.0.0', '::'].includes(host) ? [] : [host]),
  ];
  return names.map(origin);
}

function positive(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (!raw) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0)
    throw new ConfigError(`${name} must be a positive number, got "${raw}".`);
  return value;
}

/** An empty variable counts as unset, as in `readConfig`. */
function definedOnly(env: Env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) if (value) out[name] = value;
  return out;
}

function host(env: Env): string {
  const name = env.FILESTORE_HOST ? 'FILESTORE_HOST' : 'HOST';
  const value = env[name] || '127.0.0.1';
  // Some shells and containers export HOST as the machine's name: listening there would expose
  // the stack on the network, so only an address (or localhost) is taken.
  if (value !== 'localhost' && isIP(value) === 0)
    throw new ConfigError(
      `Environment variable ${name} must be an IP address to listen on (127.0.0.1, ::1, 0.0.0.0), got "${value}".`,
    );
  return value;
}

function int(env: Env, name: string, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(value) || value > max)
    throw new ConfigError(`Environment variable ${name} must be an integer from 0 to ${max}, got "${raw}".`);
  return value;
}

const port = (env: Env, name: string, fallback: number) => int(env, name, fallback, 65_535);

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (/^(1|true|yes)$/i.test(raw)) return true;
  if (/^(0|false|no)$/i.test(raw)) return false;
  throw new ConfigError(`Environment variable ${name} must be true or false, got "${raw}".`);
}

/** Exact origins only: a browser compares `scheme://host[:port]` byte for byte. */
function origins(env: Env, name: string): string[] {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return [];
  const list = raw
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
  for (const item of list) {
    let url: URL | null = null;
    try {
      url = new URL(item);
    } catch {
      // reported below
    }
    if (!url || url.origin !== item || !/^https?:$/.test(url.protocol))
      throw new ConfigError(
        `Environment variable ${name} must list origins like http://localhost:5173 (scheme://host[:port], no path, no "*"), got "${item}".`,
      );
  }
  return [...new Set(list)];
}

function auth(env: Env): AuthorizerOptions {
  if (!env.JWT_JWKS_URL) return { kind: 'dev', secret: env.FILESTORE_DEV_JWT_SECRET || DEFAULT_DEV_SECRET };
  if (!env.JWT_ISSUER)
    throw new ConfigError('Environment variable JWT_ISSUER is required with JWT_JWKS_URL.');
  if (!URL.canParse(env.JWT_JWKS_URL))
    throw new ConfigError(`Environment variable JWT_JWKS_URL must be a URL, got "${env.JWT_JWKS_URL}".`);
  return {
    kind: 'jwks',
    jwksUrl: env.JWT_JWKS_URL,
    issuer: env.JWT_ISSUER,
    audience: env.JWT_AUDIENCE || undefined,
  };
}
