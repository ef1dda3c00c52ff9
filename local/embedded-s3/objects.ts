import { pipeline } from 'node:stream/promises';
import { receiveToFile } from './body.js';
import { checksumHeader } from './checksums.js';
import {
  checkedWriteConditions,
  checkReadConditions,
  checkWriteConditions,
  type WriteConditions,
} from './conditions.js';
import { s3Errors } from './errors.js';
import { propertiesFrom, propertyHeaders } from './object-properties.js';
import type { ObjectMeta } from './object-store-fs.js';
import { bodySpec, bucketOf, header, type RequestContext, target } from './request.js';

/** S3's limit for one PUT (and for one part). */
export const MAX_OBJECT_BYTES = 5 * 1024 ** 3;

/** `response-*` query parameters: S3 honours them on signed requests only (all of ours are). */
const RESPONSE_OVERRIDES: Record<string, string> = {
  'response-content-type': 'Content-Type',
  'response-content-language': 'Content-Language',
  'response-expires': 'Expires',
  'response-cache-control': 'Cache-Control',
  'response-content-disposition': 'Content-Disposition',
  'response-content-encoding': 'Content-Encoding',
};

export async function putObject(ctx: RequestContext): Promise<void> {
  const { bucket, key } = target(ctx);
  const { objects } = ctx.state;
  const properties = propertiesFrom((name) => header(ctx, name), metadataHeaderNames(ctx));
  const conditions = writeConditions(ctx);
  // Checked before the body is read (no need to receive 5 GiB to refuse it) and again at commit.
  checkWriteConditions(await objects.head(bucket, key), conditions);
  const temp = objects.tempFile();
  const body = await receiveToFile(ctx.req, bodySpec(ctx, MAX_OBJECT_BYTES), temp);
  const meta = await objects.commit(
    bucket,
    key,
    temp,
    {
      ...properties,
      size: body.size,
      etag: body.md5Hex,
      ...(body.checksum ? { checksum: { ...body.checksum, type: 'FULL_OBJECT' } } : {}),
    },
    (current) => checkWriteConditions(current, conditions),
  );
  ctx.res.writeHead(200, { ETag: quoted(meta.etag), ...checksumHeaders(meta), 'Content-Length': '0' });
  ctx.res.end();
  ctx.state.events.emitAfter(ctx.res, created(ctx, 'ObjectCreated:Put', meta));
}

export async function getObject(ctx: RequestContext): Promise<void> {
  await readObject(ctx, false);
}

export async function headObject(ctx: RequestContext): Promise<void> {
  await readObject(ctx, true);
}

async function readObject(ctx: RequestContext, headOnly: boolean): Promise<void> {
  const { bucket, key } = target(ctx);
  checkVersionId(ctx);
  if (ctx.query.has('partNumber'))
    throw s3Errors.notImplemented('GetObject by partNumber is not implemented here');
  const overrides = responseOverrides(ctx);
  const opened = headOnly ? null : await ctx.state.objects.open(bucket, key);
  const meta = headOnly ? await ctx.state.objects.head(bucket, key) : (opened?.meta ?? null);
  if (!meta) throw s3Errors.noSuchKey(undefined, { Key: key });
  try {
    const validators = {
      ETag: quoted(meta.etag),
      'Last-Modified': new Date(meta.lastModified).toUTCString(),
    };
    try {
      checkReadConditions(meta, {
        ifMatch: header(ctx, 'if-match'),
        ifNoneMatch: header(ctx, 'if-none-match'),
        ifModifiedSince: header(ctx, 'if-modified-since'),
        ifUnmodifiedSince: header(ctx, 'if-unmodified-since'),
      });
    } catch (error) {
      // A 304 still tells the client which version it has.
      if ((error as { code?: string }).code === 'NotModified') setHeaders(ctx, validators);
      throw error;
    }
    let range: { start: number; end: number } | null;
    try {
      range = parseRange(header(ctx, 'range'), meta.size);
    } catch (error) {
      ctx.res.setHeader('Content-Range', `bytes */${meta.size}`);
      throw error;
    }
    setHeaders(ctx, {
      ...propertyHeaders(meta),
      ...validators,
      'Accept-Ranges': 'bytes',
      // Browsers must not guess another type than the one the service stored or asked for.
      'X-Content-Type-Options': 'nosniff',
      ...(meta.parts ? { 'x-amz-mp-parts-count': String(meta.parts) } : {}),
      ...overrides,
    });
    if (range) {
      ctx.res.writeHead(206, {
        'Content-Range': `bytes ${range.start}-${range.end}/${meta.size}`,
        'Content-Length': String(range.end - range.start + 1),
      });
    } else {
      const wantsChecksum = header(ctx, 'x-amz-checksum-mode')?.toUpperCase() === 'ENABLED';
      ctx.res.writeHead(200, {
        'Content-Length': String(meta.size),
        ...(wantsChecksum ? checksumHeaders(meta) : {}),
      });
    }
    if (!opened || (range === null && meta.size === 0)) {
      ctx.res.end();
      return;
    }
    const stream = opened.handle.createReadStream({
      start: range?.start ?? 0,
      end: range?.end ?? meta.size - 1,
      highWaterMark: 256 * 1024,
    });
    await pipeline(stream, ctx.res);
  } finally {
    await opened?.handle.close().catch(() => undefined);
  }
}

export async function deleteObject(ctx: RequestContext): Promise<void> {
  const { bucket, key } = target(ctx);
  checkVersionId(ctx);
  await ctx.state.objects.delete(bucket, key);
  ctx.res.writeHead(204);
  ctx.res.end();
}

/** If-None-Match (`*` only) and If-Match of a write. */
export function writeConditions(ctx: RequestContext): WriteConditions {
  return checkedWriteConditions({
    ifNoneMatch: header(ctx, 'if-none-match'),
    ifMatch: header(ctx, 'if-match'),
  });
}

export function metadataHeaderNames(ctx: RequestContext): string[] {
  return Object.keys(ctx.req.headersDistinct).filter((name) => name.startsWith('x-amz-meta-'));
}

/** Versioning is never enabled here: only the `null` version exists. */
export function checkVersionId(ctx: RequestContext): void {
  const versionId = ctx.query.get('versionId');
  if (versionId !== undefined && versionId !== 'null') {
    throw s3Errors.invalidArgument('Invalid version id specified', {
      ArgumentName: 'versionId',
      ArgumentValue: versionId,
    });
  }
}

export function checksumHeaders(meta: Pick<ObjectMeta, 'checksum'>): Record<string, string> {
  if (!meta.checksum) return {};
  return {
    [checksumHeader(meta.checksum.algorithm)]: meta.checksum.value,
    'x-amz-checksum-type': meta.checksum.type,
  };
}

export function quoted(etag: string): string {
  return `"${etag}"`;
}

export function created(
  ctx: RequestContext,
  eventName:
    | 'ObjectCreated:Put'
    | 'ObjectCreated:Post'
    | 'ObjectCreated:Copy'
    | 'ObjectCreated:CompleteMultipartUpload',
  meta: ObjectMeta,
) {
  return {
    eventName,
    bucket: bucketOf(ctx),
    key: meta.key,
    size: meta.size,
    etag: meta.etag,
    requestId: ctx.requestId,
    sourceIp: ctx.sourceIp,
  };
}

/**
 * One `bytes=` range, as S3 serves it: `a-b`, `a-` or `-n`. Anything S3 ignores (several ranges,
 * other units, bad syntax) serves the whole object; a range that cannot be satisfied (past the
 * end, or any range on an empty object) is 416 InvalidRange.
 */
export function parseRange(value: string | undefined, size: number): { start: number; end: number } | null {
  if (value === undefined) return null;
  const match = /^bytes=(\d*)-(\d*)$/.exec(value.trim());
  if (!match || (match[1] === '' && match[2] === '')) return null;
  const unsatisfiable = () =>
    s3Errors.invalidRange(undefined, { RangeRequested: value.slice(0, 100), ActualObjectSize: size });
  if (match[1] === '') {
    const suffix = Number(match[2]);
    if (suffix === 0 || size === 0) throw unsatisfiable();
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(match[1]);
  if (match[2] !== '' && Number(match[2]) < start) return null;
  if (start >= size) throw unsatisfiable();
  return { start, end: match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1) };
}

function setHeaders(ctx: RequestContext, headers: Record<string, string>): void {
  for (const [name, value] of Object.entries(headers)) ctx.res.setHeader(name, value);
}

function responseOverrides(ctx: RequestContext): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [parameter, name] of Object.entries(RESPONSE_OVERRIDES)) {
    const value = ctx.query.get(parameter);
    if (value === undefined) continue;
    if (/[^\t\x20-\x7e\x80-\xff]/.test(value)) {
      throw s3Errors.invalidArgument(`${parameter} is not a valid header value`, { ArgumentName: parameter });
    }
    headers[name] = value;
  }
  return headers;
}
