import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type RequestListener } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { CreateBucketCommand, PutBucketCorsCommand } from '@aws-sdk/client-s3';
import type { S3EventRecord } from 'aws-lambda';
import { createS3Client } from '../shared/adapters/s3-object-store.js';

export interface EmbeddedS3Options {
  /** Where buckets and objects live; they survive restarts. */
  dataDir: string;
  /** 0 picks a free port. @default 4569 */
  port?: number;
  /** @default '127.0.0.1' */
  host?: string;
  /** Created (with CORS for browser uploads) before the promise resolves. */
  buckets: string[];
  /** @default 'S3RVER' (s3rver's built-in key pair, which stays valid either way) */
  accessKeyId?: string;
  /** @default 'S3RVER' */
  secretAccessKey?: string;
  allowedOrigins?: string[]; // honoured by the new store (embedded-s3 branch)
}

export interface EmbeddedS3 {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Creates a bucket with a CORS rule that lets browsers upload; a no-op for an existing one. */
  createBucket(name: string): Promise<void>;
  /**
   * Delivers every new object as the record S3 puts in an event notification (never removals),
   * shortly after the request that created it. There is no prefix filter: listeners pick the
   * keys they care about. Returns a function that unsubscribes.
   */
  onObjectCreated(listener: (record: S3EventRecord) => void): () => void;
  /** Closes the server; resolves once the port is free again. Calling it again is a no-op. */
  stop(): Promise<void>;
}

const REGION = 'us-east-1';
const DEFAULT_PORT = 4569;
const DEFAULT_CREDENTIAL = 'S3RVER';
/** S3's minimum size for every part of a multipart upload but the last. */
const MIN_PART_BYTES = 5 * 1024 * 1024;
const MAX_PART_NUMBER = 10_000;
/** s3rver names uploads with 16 random bytes in hex; anything else cannot be one. */
const UPLOAD_ID = /^[0-9a-f]{32}$/;

const require = createRequire(import.meta.url);

/**
 * Runs @20minutes/s3rver in this process: a filesystem-backed S3 API that verifies SigV4
 * signatures. On top of it this adds what the service relies on and s3rver lacks, so the code
 * above sees S3's behaviour: AbortMultipartUpload, part checks on completion, S3's multipart
 * ETags, 416 for a range on an empty object, ListObjectsV2 paging without OpenSSL's legacy
 * provider, and event records shaped like AWS's.
 */
export async function startEmbeddedS3(opts: EmbeddedS3Options): Promise<EmbeddedS3> {
  const accessKeyId = opts.accessKeyId ?? DEFAULT_CREDENTIAL;
  const secretAccessKey = opts.secretAccessKey ?? DEFAULT_CREDENTIAL;
  const host = opts.host ?? '127.0.0.1';
  await mkdir(opts.dataDir, { recursive: true });

  installDesFallback();
  fixQuerySignatures();
  registerAccessKey(accessKeyId, secretAccessKey);
  const S3rver = require('@20minutes/s3rver') as S3rverConstructor;
  const s3rver = new S3rver({
    silent: true,
    directory: opts.dataDir,
    // Path-style only: with vhost detection a request to a host name would read it as a bucket.
    vhostBuckets: false,
  });
  addMissingS3Behaviour(s3rver);

  const listeners = new Set<(record: S3EventRecord) => void>();
  s3rver.on('event', (event: RawS3Event) => {
    for (const raw of event.Records) void deliver(s3rver.store, raw, listeners);
  });

  const httpServer = createServer(s3rver.callback());
  await new Promise<void>((done, fail) => {
    httpServer.once('error', fail);
    httpServer.listen(opts.port ?? DEFAULT_PORT, host, () => {
      httpServer.off('error', fail);
      done();
    });
  });
  const { port } = httpServer.address() as AddressInfo;
  const endpoint = `http://${endpointHost(host)}:${port}`;

  const client = createS3Client({
    region: REGION,
    endpoint,
    embedded: true,
    credentials: { accessKeyId, secretAccessKey },
    maxAttempts: 1,
  });

  const createBucket = async (name: string) => {
    try {
      await client.send(new CreateBucketCommand({ Bucket: name }));
    } catch (error) {
      const code = (error as { name?: string }).name;
      if (code !== 'BucketAlreadyExists' && code !== 'BucketAlreadyOwnedByYou') throw error;
    }
    await client.send(
      new PutBucketCorsCommand({
        Bucket: name,
        CORSConfiguration: {
          CORSRules: [
            {
              AllowedOrigins: ['*'],
              AllowedMethods: ['GET', 'PUT', 'POST', 'HEAD'],
              AllowedHeaders: ['*'],
              // Multipart uploads from a browser need each part's ETag.
              ExposeHeaders: ['ETag'],
              MaxAgeSeconds: 3000,
            },
          ],
        },
      }),
    );
  };

  const close = async () => {
    listeners.clear();
    client.destroy();
    await new Promise<void>((done, fail) => {
      httpServer.close((error) => (error ? fail(error) : done()));
      // Keep-alive sockets of SDK clients would otherwise hold the port until they time out.
      httpServer.closeAllConnections();
    });
    s3rver.logger.close();
  };
  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= close();
    return stopped;
  };

  try {
    for (const bucket of opts.buckets) await createBucket(bucket);
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    endpoint,
    region: REGION,
    accessKeyId,
    secretAccessKey,
    createBucket,
    onObjectCreated(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    stop,
  };
}

function endpointHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * Adds (or updates) a key pair in s3rver's account registry, which is process-wide. Pairs are
 * never removed: another store in this process may use the same one.
 */
function registerAccessKey(accessKeyId: string, secretAccessKey: string): void {
  const { DUMMY_ACCOUNT } = require('@20minutes/s3rver/lib/models/account.js') as S3rverAccounts;
  DUMMY_ACCOUNT.createKeyPair(accessKeyId, secretAccessKey);
}

/**
 * s3rver encrypts ListObjectsV2 continuation tokens with single DES, which OpenSSL 3 only has in
 * its legacy provider: without `--openssl-legacy-provider` every truncated listing is a 500.
 * Three-key 3DES with all three keys equal is DES, byte for byte, and is in the default
 * provider, so DES calls are routed there. Only calls that would otherwise throw are changed.
 */
function installDesFallback(): void {
  if (desFallbackInstalled) return;
  desFallbackInstalled = true;
  const crypto = require('node:crypto') as typeof import('node:crypto');
  try {
    crypto.createCipheriv('des', Buffer.alloc(8), Buffer.alloc(8));
    return; // The legacy provider is loaded.
  } catch {
    // ERR_OSSL_EVP_UNSUPPORTED: route DES through 3DES below.
  }
  // s3rver calls `crypto.createCipheriv(...)` on the shared CommonJS module object.
  const factories = crypto as unknown as Record<'createCipheriv' | 'createDecipheriv', CipherFactory>;
  for (const name of ['createCipheriv', 'createDecipheriv'] as const) {
    const original = factories[name];
    factories[name] = (algorithm, key, ...rest) =>
      /^des(-cbc)?$/i.test(algorithm) && Buffer.isBuffer(key) && key.length === 8
        ? original('des-ede3-cbc', Buffer.concat([key, key, key]), ...rest)
        : original(algorithm, key, ...rest);
  }
}
let desFallbackInstalled = false;
type CipherFactory = (algorithm: string, key: unknown, ...rest: unknown[]) => unknown;

/**
 * s3rver canonicalises query strings with encodeURIComponent, which leaves `!'()*` alone where
 * SigV4 encodes them, so any presigned URL whose query holds one is refused as tampered: every
 * download URL with `filename*=UTF-8''...` in its Content-Disposition. Its authentication
 * middleware is synchronous up to `next()`, so for exactly that stretch encodeURIComponent is
 * the RFC 3986 one; the rest of the request runs after it is restored. (The router is a
 * module-level singleton: patch it once per process.)
 */
function fixQuerySignatures(): void {
  const router = require('@20minutes/s3rver/lib/routes.js') as { stack: { stack: KoaMiddleware[] }[] };
  if (router.stack.some((layer) => layer.stack.some((fn) => fn.name === PATCHED_AUTHENTICATION))) return;
  const layer = router.stack.find((candidate) => candidate.stack.some((fn) => fn.name === 'authentication'));
  const index = layer?.stack.findIndex((fn) => fn.name === 'authentication') ?? -1;
  const authentication = layer?.stack[index];
  if (!layer || !authentication) {
    throw new Error('Unexpected @20minutes/s3rver router layout: check the pinned version');
  }
  const withRfc3986Query: KoaMiddleware = async (ctx, next) => {
    let proceed = false;
    const original = globalThis.encodeURIComponent;
    globalThis.encodeURIComponent = encodeRfc3986;
    let checked: Promise<void>;
    try {
      checked = authentication(ctx, async () => {
        proceed = true;
      });
    } finally {
      globalThis.encodeURIComponent = original;
    }
    await checked;
    if (proceed) await next();
  };
  Object.defineProperty(withRfc3986Query, 'name', { value: PATCHED_AUTHENTICATION });
  layer.stack[index] = withRfc3986Query;
}

function encodeRfc3986(value: string | number | boolean): string {
  return encodeURIComponentOriginal(value).replace(
    /[!'()*]/g,
    (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}
const encodeURIComponentOriginal = globalThis.encodeURIComponent;
const PATCHED_AUTHENTICATION = 'authenticationWithRfc3986Query';

/** Fills the gaps between s3rver and S3 that the service (and its tests) would notice. */
function addMissingS3Behaviour(s3rver: S3rverApp): void {
  const { store } = s3rver;
  const S3Error = require('@20minutes/s3rver/lib/models/error.js') as S3ErrorConstructor;
  const uploadDir = (bucket: string, uploadId: string) =>
    join(store.getResourcePath(bucket, undefined, 'uploads'), uploadId);
  /** The key the upload was created for; throws S3's NoSuchUpload when there is no such upload. */
  const uploadKey = async (bucket: string, uploadId: string): Promise<string> => {
    if (UPLOAD_ID.test(uploadId)) {
      try {
        return await readFile(join(uploadDir(bucket, uploadId), 'key'), 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
    }
    throw new S3Error(
      'NoSuchUpload',
      'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
      { UploadId: uploadId },
    );
  };

  // S3 refuses any range on an empty object (416); s3rver would announce one byte and send none.
  const getObject = store.getObject.bind(store);
  store.getObject = async (bucket, key, options) => {
    const object = await getObject(bucket, key, options);
    if (object?.range && object.size === 0 && object.content) {
      object.content.destroy();
      object.content = null;
    }
    return object;
  };

  // s3rver would accept a part for any upload id, even an aborted one, and any part "number".
  const putPart = store.putPart.bind(store);
  store.putPart = async (bucket, uploadId, partNumber, content) => {
    const drainAndFail = (error: Error) => {
      if (!Buffer.isBuffer(content)) content.resume();
      return error;
    };
    try {
      await uploadKey(bucket, uploadId);
    } catch (error) {
      throw drainAndFail(error as Error);
    }
    const number = Number(partNumber);
    if (!/^\d+$/.test(String(partNumber)) || number < 1 || number > MAX_PART_NUMBER) {
      throw drainAndFail(
        new S3Error('InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive', {
          ArgumentName: 'partNumber',
          ArgumentValue: String(partNumber),
        }),
      );
    }
    return putPart(bucket, uploadId, String(number), content);
  };

  // s3rver assembles whatever part files exist without comparing ETags (a missing part file even
  // crashes the process with an unhandled stream error), and gives the result a plain MD5 ETag.
  const putObjectMultipart = store.putObjectMultipart.bind(store);
  store.putObjectMultipart = async (bucket, uploadId, parts) => {
    const key = await uploadKey(bucket, uploadId);
    const dir = uploadDir(bucket, uploadId);
    const digests: Buffer[] = [];
    for (const [index, part] of parts.entries()) {
      const previous = parts[index - 1];
      if (previous && part.number <= previous.number) {
        throw new S3Error('InvalidPartOrder', 'The list of parts was not in ascending order.', {
          UploadId: uploadId,
        });
      }
      const md5 = await readFile(join(dir, `${part.number}.md5`), 'utf8').catch(() => null);
      if (md5 === null || md5 !== part.etag) {
        throw new S3Error(
          'InvalidPart',
          "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
          { UploadId: uploadId, PartNumber: part.number, ETag: part.etag },
        );
      }
      const isLast = index === parts.length - 1;
      const { size } = await stat(join(dir, String(part.number)));
      if (!isLast && size < MIN_PART_BYTES) {
        throw new S3Error(
          'EntityTooSmall',
          'Your proposed upload is smaller than the minimum allowed object size.',
          {
            ProposedSize: size,
            MinSizeAllowed: MIN_PART_BYTES,
            PartNumber: part.number,
          },
        );
      }
      digests.push(Buffer.from(md5, 'hex'));
    }
    const { size } = await putObjectMultipart(bucket, uploadId, parts);
    // S3's multipart ETag: the MD5 of the parts' MD5s, then the number of parts.
    const etag = `${createHash('md5').update(Buffer.concat(digests)).digest('hex')}-${parts.length}`;
    await writeFile(store.getResourcePath(bucket, key, 'object.md5'), etag);
    return { md5: etag, size };
  };

  // s3rver answers AbortMultipartUpload with 405 MethodNotAllowed, after checking the signature
  // and the bucket: catch exactly that and do the abort.
  const abortMultipartUpload: KoaMiddleware = async (ctx, next) => {
    if (ctx.method !== 'DELETE' || typeof ctx.query.uploadId !== 'string') return next();
    try {
      await next();
    } catch (error) {
      if ((error as { code?: string }).code !== 'MethodNotAllowed') throw error;
      const { bucket, key } = ctx.params;
      const uploadId = ctx.query.uploadId;
      if (!bucket || (await uploadKey(bucket, uploadId)) !== key) {
        // The upload exists, but for another key: S3 answers as if it did not.
        throw new S3Error('NoSuchUpload', 'The specified upload does not exist.', { UploadId: uploadId });
      }
      await rm(uploadDir(bucket, uploadId), { recursive: true, force: true });
      ctx.status = 204;
      ctx.body = '';
    }
  };
  // Before s3rver's router (its last middleware), after its XML and vhost handling.
  const routerIndex = s3rver.middleware.length - 1;
  if (!(s3rver.middleware[routerIndex] && 'router' in s3rver.middleware[routerIndex])) {
    throw new Error('Unexpected @20minutes/s3rver middleware layout: check the pinned version');
  }
  s3rver.middleware.splice(routerIndex, 0, abortMultipartUpload);
}

async function deliver(
  store: S3rverStore,
  raw: RawS3EventRecord,
  listeners: ReadonlySet<(record: S3EventRecord) => void>,
): Promise<void> {
  if (!raw.eventName.startsWith('ObjectCreated:') || listeners.size === 0) return;
  const { bucket, object } = raw.s3;
  let eTag = object.eTag;
  if (eTag === undefined) {
    // s3rver leaves the ETag out of Copy events; S3 includes it.
    const metadata = await store.getMetadata(bucket.name, object.key).catch(() => null);
    eTag = typeof metadata?.etag === 'string' ? JSON.parse(metadata.etag) : '';
  }
  // Keep the request that triggered the event out of the listeners' way, as S3 does.
  await new Promise((done) => setImmediate(done));
  const record: S3EventRecord = {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: REGION,
    eventTime: raw.eventTime,
    // s3rver reports a completed multipart upload as a POST; only its ETag gives it away.
    eventName:
      raw.eventName === 'ObjectCreated:Post' && /-\d+$/.test(eTag ?? '')
        ? 'ObjectCreated:CompleteMultipartUpload'
        : raw.eventName,
    userIdentity: raw.userIdentity,
    requestParameters: { sourceIPAddress: raw.requestParameters.sourceIPAddress.replace(/^::ffff:/, '') },
    responseElements: raw.responseElements,
    s3: {
      s3SchemaVersion: '1.0',
      configurationId: 'embedded-s3',
      bucket: {
        name: bucket.name,
        ownerIdentity: bucket.ownerIdentity,
        arn: `arn:aws:s3:::${bucket.name}`,
      },
      object: {
        key: encodeEventKey(object.key),
        size: object.size ?? 0,
        eTag: eTag ?? '',
        sequencer: nextSequencer(),
      },
    },
  };
  for (const listener of listeners) {
    try {
      listener(record);
    } catch (error) {
      process.emitWarning(error as Error, { code: 'EMBEDDED_S3_LISTENER' });
    }
  }
}

/**
 * Keys in S3 event records are form-urlencoded: a space becomes `+`, other reserved and
 * non-ASCII characters are percent-encoded as UTF-8 (`(` as %28 too), and `/` stays as is.
 */
function encodeEventKey(key: string): string {
  return encodeURIComponent(key)
    .replace(/[!'()~]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+')
    .replace(/%2F/g, '/');
}

let lastSequence = 0n;
/** S3's sequencer: hex that grows with every event for a key; ours grows for every event. */
function nextSequencer(): string {
  const now = BigInt(Date.now()) * 1000n;
  lastSequence = now > lastSequence ? now : lastSequence + 1n;
  return lastSequence.toString(16).toUpperCase().padStart(18, '0');
}

// The parts of @20minutes/s3rver (CommonJS, untyped) used above.

interface S3rverConstructor {
  new (options: { silent: boolean; directory: string; vhostBuckets: boolean }): S3rverApp;
}

interface S3rverApp {
  store: S3rverStore;
  /** Koa's middleware list, composed when `callback()` is called. */
  middleware: KoaMiddleware[];
  logger: { close(): void };
  callback(): RequestListener;
  on(event: 'event', listener: (event: RawS3Event) => void): void;
}

interface S3rverStore {
  getResourcePath(bucket: string, key: string | undefined, resource: string): string;
  getMetadata(bucket: string, key: string): Promise<Record<string, unknown>>;
  getObject(
    bucket: string,
    key: string,
    options?: { start?: number; end?: number },
  ): Promise<StoredObject | null>;
  putPart(
    bucket: string,
    uploadId: string,
    partNumber: string,
    content: Readable | Buffer,
  ): Promise<{ md5: string; size: number }>;
  putObjectMultipart(
    bucket: string,
    uploadId: string,
    parts: { number: number; etag: string }[],
  ): Promise<{ md5: string; size: number }>;
}

interface StoredObject {
  readonly size: number;
  range?: { start: number; end: number };
  content: Readable | null;
}

interface KoaContext {
  method: string;
  query: Record<string, string | string[] | undefined>;
  params: Record<string, string | undefined>;
  status: number;
  body: unknown;
}
type KoaMiddleware = (ctx: KoaContext, next: () => Promise<void>) => Promise<void>;

interface S3ErrorConstructor {
  new (code: string, message: string, detail?: Record<string, unknown>): Error;
}

interface S3rverAccounts {
  DUMMY_ACCOUNT: { createKeyPair(accessKeyId: string, secretAccessKey: string): void };
}

interface RawS3Event {
  Records: RawS3EventRecord[];
}

/** What s3rver emits: AWS's shape, but with a raw key, a 2.0 version and no multipart event. */
interface RawS3EventRecord {
  eventTime: string;
  eventName: string;
  userIdentity: { principalId: string };
  requestParameters: { sourceIPAddress: string };
  responseElements: { 'x-amz-request-id': string; 'x-amz-id-2': string };
  s3: {
    bucket: { name: string; ownerIdentity: { principalId: string } };
    object: { key: string; size?: number; eTag?: string };
  };
}
