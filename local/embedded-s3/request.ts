import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BodySpec } from './body.js';
import { declaredChecksum, parseContentMd5 } from './checksums.js';
import { s3Errors } from './errors.js';
import type { EventHub } from './events.js';
import type { FsObjectStore } from './object-store-fs.js';
import type { SignedRequest, VerifiedRequest } from './sigv4.js';
import type { FsUploadStore } from './upload-store-fs.js';

/** The server's parts every handler may use. */
export interface StoreState {
  objects: FsObjectStore;
  uploads: FsUploadStore;
  events: EventHub;
  keyPair: { accessKeyId: string; secretAccessKey: string };
  /** The canonical user id the store answers as owner of everything. */
  ownerId: string;
  region: string;
}

/** One request, parsed once: what it addresses, its query and headers, who signed it. */
export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  state: StoreState;
  requestId: string;
  method: string;
  signed: SignedRequest;
  /** Decoded bucket name; null for the service (`/`). */
  bucket: string | null;
  /** Decoded object key; null for the bucket itself (`/bucket` or `/bucket/`). */
  key: string | null;
  /** First value of each query parameter. */
  query: ReadonlyMap<string, string>;
  /** Set once the signature was verified (every request but preflights and POST forms). */
  auth: VerifiedRequest | null;
  /** The remote address, as S3 reports it in events. */
  sourceIp: string;
}

/** S3 keys are at most 1024 bytes of UTF-8. */
const MAX_KEY_BYTES = 1024;

/** Splits the request target into bucket, key and query; malformed encoding is InvalidURI. */
export function parseTarget(
  req: IncomingMessage,
): Pick<RequestContext, 'bucket' | 'key' | 'query' | 'signed' | 'method'> {
  const url = req.url ?? '';
  if (!url.startsWith('/')) throw s3Errors.invalidUri();
  const mark = url.indexOf('?');
  const rawPath = mark === -1 ? url : url.slice(0, mark);
  const rawQuery = mark === -1 ? '' : url.slice(mark + 1);
  const pairs = rawQuery
    .split('&')
    .filter(Boolean)
    .map((pair) => {
      const eq = pair.indexOf('=');
      return eq === -1
        ? ([decode(pair), ''] as const)
        : ([decode(pair.slice(0, eq)), decode(pair.slice(eq + 1))] as const);
    });
  const query = new Map<string, string>();
  for (const [name, value] of pairs) if (!query.has(name)) query.set(name, value);

  const slash = rawPath.indexOf('/', 1);
  const rawBucket = slash === -1 ? rawPath.slice(1) : rawPath.slice(1, slash);
  const rawKey = slash === -1 ? '' : rawPath.slice(slash + 1);
  const key = rawKey === '' ? null : decode(rawKey);
  if (key !== null && Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) {
    throw s3Errors.keyTooLong(undefined, { MaxSizeAllowed: MAX_KEY_BYTES });
  }
  const method = req.method ?? 'GET';
  return {
    method,
    bucket: rawBucket === '' ? null : decode(rawBucket),
    key,
    query,
    signed: { method, rawPath, query: pairs, headers: req.headersDistinct },
  };
}

/** A request header's value (repeated headers joined with commas), or undefined. */
export function header(ctx: Pick<RequestContext, 'req'>, name: string): string | undefined {
  const values = ctx.req.headersDistinct[name];
  return values === undefined ? undefined : values.join(',');
}

/** The bucket and key of an object request (routing guarantees both). */
export function target(ctx: RequestContext): { bucket: string; key: string } {
  if (ctx.bucket === null || ctx.key === null) throw s3Errors.invalidRequest();
  return { bucket: ctx.bucket, key: ctx.key };
}

export function bucketOf(ctx: RequestContext): string {
  if (ctx.bucket === null) throw s3Errors.invalidRequest();
  return ctx.bucket;
}

/**
 * What the body must be, from the headers and the signature: its decoded length (Content-Length,
 * or x-amz-decoded-content-length for aws-chunked), its payload hash or chunk signatures,
 * Content-MD5 and x-amz-checksum-*. Refuses a missing length and anything over `maxLength`.
 */
export function bodySpec(ctx: RequestContext, maxLength: number): BodySpec {
  const auth = ctx.auth;
  if (!auth) throw s3Errors.accessDenied();
  const encoding = header(ctx, 'content-encoding') ?? '';
  const chunked =
    auth.payload.kind === 'streaming-signed' ||
    auth.payload.kind === 'streaming-unsigned-trailer' ||
    encoding.split(',').some((token) => token.trim().toLowerCase() === 'aws-chunked');
  const lengthHeader = chunked ? header(ctx, 'x-amz-decoded-content-length') : header(ctx, 'content-length');
  if (lengthHeader === undefined) {
    if (!chunked && ctx.req.headers['transfer-encoding'] !== undefined) {
      throw s3Errors.notImplemented(
        'Transfer-Encoding: chunked needs aws-chunked framing and x-amz-decoded-content-length',
      );
    }
    throw s3Errors.missingContentLength();
  }
  if (!/^\d{1,16}$/.test(lengthHeader.trim())) {
    throw s3Errors.invalidArgument('The content length is not a number', { ArgumentName: 'Content-Length' });
  }
  const length = Number(lengthHeader.trim());
  if (length > maxLength) {
    throw s3Errors.entityTooLarge(undefined, { ProposedSize: length, MaxSizeAllowed: maxLength });
  }
  return {
    length,
    chunked,
    payload: auth.payload,
    signing: auth.signing,
    contentMd5: parseContentMd5(header(ctx, 'content-md5')),
    checksum: declaredChecksum((name) => header(ctx, name)),
  };
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw s3Errors.invalidUri();
  }
}
