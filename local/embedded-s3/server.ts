import { createHash, randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Cors, createCors } from './cors.js';
import { type KeyPair, loadOrCreateKeyPair } from './credentials.js';
import { lockDataDir } from './data-dir-lock.js';
import { asS3Error, S3Error } from './errors.js';
import { createEventHub, type ObjectCreatedListener } from './events.js';
import { FsObjectStore } from './object-store-fs.js';
import { parseTarget, type RequestContext, type StoreState } from './request.js';
import { authenticatesItself, route } from './router.js';
import { verifyRequest } from './sigv4.js';
import { FsUploadStore } from './upload-store-fs.js';
import { sendError } from './xml.js';

export interface EmbeddedS3Options {
  /** Where buckets, objects and the key pair live; they survive restarts. */
  dataDir: string;
  /** 0 picks a free port. @default 4569 */
  port?: number;
  /** @default '127.0.0.1' (loopback only) */
  host?: string;
  /** Created before the promise resolves (existing ones are kept). */
  buckets: string[];
  /**
   * Origins (`scheme://host[:port]`, exact) whose browser code may call the store: preflights
   * and `Access-Control-Allow-*`. Everything else gets no CORS headers. @default []
   */
  allowedOrigins?: string[];
  /**
   * The only key pair the store accepts. @default a random pair generated on the data dir's
   * first start and kept in `<dataDir>/credentials.json` (mode 0600)
   */
  accessKeyId?: string;
  secretAccessKey?: string;
}

export interface EmbeddedS3 {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Creates a bucket; a no-op for an existing one. */
  createBucket(name: string): Promise<void>;
  /** Replaces the CORS origins (the local stack knows its own only once it listens). */
  setAllowedOrigins(origins: string[]): void;
  /**
   * Delivers every new object as the record S3 puts in an event notification (never removals),
   * once the request that created it has been answered. There is no prefix filter: listeners
   * pick the keys they care about. Returns a function that unsubscribes.
   */
  onObjectCreated(listener: ObjectCreatedListener): () => void;
  /** Closes the server; resolves once the port is free again. Calling it again is a no-op. */
  stop(): Promise<void>;
}

const REGION = 'us-east-1';
const DEFAULT_PORT = 4569;
/**
 * An error answer to a request whose body is still arriving closes the connection past this;
 * below it the body is read and dropped, so the client reads the answer instead of a broken
 * pipe. Large enough for a refused multipart part (8 MiB parts, and one byte more).
 */
const DRAIN_LIMIT_BYTES = 64 * 1024 * 1024;
/** Headers of a failed answer that are not the error's own. */
const KEPT_ON_ERROR = new Set([
  'x-amz-request-id',
  'x-amz-id-2',
  'server',
  'vary',
  'access-control-allow-origin',
  'access-control-expose-headers',
  'etag',
  'last-modified',
  'content-range',
]);

/**
 * An S3-compatible server for one machine, in this process: path-style buckets and objects on
 * the filesystem, every request checked as S3 checks it (SigV4 header or presigned query, POST
 * policies, conditional writes, checksums, CORS per origin), object-created events in AWS's
 * record shape. It changes nothing outside itself.
 */
export async function startEmbeddedS3(opts: EmbeddedS3Options): Promise<EmbeddedS3> {
  const host = opts.host ?? '127.0.0.1';
  await mkdir(opts.dataDir, { recursive: true, mode: 0o700 });
  const keyPair = await keyPairFor(opts);
  const unlock = await lockDataDir(opts.dataDir);
  let objects: FsObjectStore;
  try {
    objects = await FsObjectStore.open(opts.dataDir);
    for (const bucket of opts.buckets) await objects.createBucket(bucket);
  } catch (error) {
    await unlock();
    throw error;
  }
  const ownerId = createHash('sha256').update(`stowage-embedded-s3:${keyPair.accessKeyId}`).digest('hex');
  const events = createEventHub({ region: REGION, principalId: ownerId.slice(0, 14).toUpperCase() });
  const state: StoreState = {
    objects,
    uploads: new FsUploadStore(objects),
    events,
    keyPair,
    ownerId,
    region: REGION,
  };
  const cors = createCors(opts.allowedOrigins ?? []);

  // No request timeout: a 5 GiB upload may take longer than Node's default 5 minutes.
  const server = createServer({ requestTimeout: 0, headersTimeout: 60_000 }, (req, res) => {
    void serve(state, cors, req, res);
  });
  try {
    await new Promise<void>((done, fail) => {
      server.once('error', fail);
      server.listen(opts.port ?? DEFAULT_PORT, host, () => {
        server.off('error', fail);
        done();
      });
    });
  } catch (error) {
    await unlock();
    throw error;
  }
  const { port } = server.address() as AddressInfo;

  const close = async () => {
    events.clear();
    await new Promise<void>((done, fail) => {
      server.close((error) => (error ? fail(error) : done()));
      // Keep-alive sockets of SDK clients would otherwise hold the port until they time out.
      server.closeAllConnections();
    });
    await unlock();
  };
  let stopped: Promise<void> | undefined;

  return {
    endpoint: `http://${endpointHost(host)}:${port}`,
    region: REGION,
    accessKeyId: keyPair.accessKeyId,
    secretAccessKey: keyPair.secretAccessKey,
    async createBucket(name) {
      await objects.createBucket(name);
    },
    setAllowedOrigins: (origins) => cors.setAllowedOrigins(origins),
    onObjectCreated: (listener) => events.onObjectCreated(listener),
    stop() {
      stopped ??= close();
      return stopped;
    },
  };
}

/** One request: CORS, target, signature (or the POST policy), operation, S3's error answer. */
async function serve(
  state: StoreState,
  cors: Cors,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const requestId = randomBytes(8).toString('hex').toUpperCase();
  res.setHeader('x-amz-request-id', requestId);
  res.setHeader('x-amz-id-2', requestId);
  res.setHeader('Server', 'StowageEmbeddedS3');
  let resource = (req.url ?? '/').split('?')[0] ?? '/';
  try {
    cors.decorate(req, res);
    if (req.method === 'OPTIONS') {
      cors.preflight(req, res);
      return;
    }
    const target = parseTarget(req);
    resource = target.signed.rawPath;
    const ctx: RequestContext = {
      ...target,
      req,
      res,
      state,
      requestId,
      auth: null,
      sourceIp: (req.socket.remoteAddress ?? '').replace(/^::ffff:/, ''),
    };
    const handler = route(ctx);
    if (!authenticatesItself(handler)) {
      ctx.auth = await verifyRequest(ctx.signed, (id) => secretOf(state.keyPair, id), new Date());
    }
    await handler(ctx);
  } catch (error) {
    answerError(req, res, error, { resource, requestId });
  }
}

function answerError(
  req: IncomingMessage,
  res: ServerResponse,
  error: unknown,
  where: { resource: string; requestId: string },
): void {
  if (!(error instanceof S3Error)) reportUnexpected(error);
  if (res.headersSent) {
    // The answer was streaming (a GET whose file failed, a client gone): all that is left is to cut it.
    res.destroy();
    return;
  }
  const s3Error = asS3Error(error);
  for (const name of res.getHeaderNames()) if (!KEPT_ON_ERROR.has(name)) res.removeHeader(name);
  if (s3Error.status !== 304 && s3Error.status !== 412) {
    res.removeHeader('etag');
    res.removeHeader('last-modified');
  }
  if (!req.complete && unreadBodyIsLarge(req)) res.setHeader('Connection', 'close');
  sendError(res, s3Error, { ...where, head: req.method === 'HEAD' });
}

function unreadBodyIsLarge(req: IncomingMessage): boolean {
  const length = Number(req.headers['content-length']);
  return (
    req.headers['transfer-encoding'] !== undefined || !Number.isFinite(length) || length > DRAIN_LIMIT_BYTES
  );
}

/** A client that went away mid-answer is not worth a warning. */
const CLIENT_GONE = new Set(['ERR_STREAM_PREMATURE_CLOSE', 'ECONNRESET', 'EPIPE', 'ERR_STREAM_DESTROYED']);

/** Errors that are not S3 answers are bugs (or disk trouble): the client sees InternalError only. */
function reportUnexpected(error: unknown): void {
  if (CLIENT_GONE.has((error as NodeJS.ErrnoException)?.code ?? '')) return;
  process.emitWarning(error instanceof Error ? error : new Error(String(error)), {
    code: 'EMBEDDED_S3_INTERNAL',
  });
}

function secretOf(keyPair: KeyPair, accessKeyId: string): string | undefined {
  return accessKeyId === keyPair.accessKeyId ? keyPair.secretAccessKey : undefined;
}

async function keyPairFor(opts: EmbeddedS3Options): Promise<KeyPair> {
  if (opts.accessKeyId !== undefined || opts.secretAccessKey !== undefined) {
    if (!opts.accessKeyId || !opts.secretAccessKey) {
      throw new Error(
        'startEmbeddedS3: pass both accessKeyId and secretAccessKey, or neither to generate a pair',
      );
    }
    return { accessKeyId: opts.accessKeyId, secretAccessKey: opts.secretAccessKey };
  }
  return loadOrCreateKeyPair(opts.dataDir);
}

function endpointHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}
