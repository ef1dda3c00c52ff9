import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { checkCopySourceConditions, checkWriteConditions } from './conditions.js';
import { s3Errors } from './errors.js';
import { propertiesFrom } from './object-properties.js';
import type { NewObject, OpenedObject } from './object-store-fs.js';
import { checksumHeaders, created, metadataHeaderNames, quoted, writeConditions } from './objects.js';
import { header, type RequestContext, target } from './request.js';
import { S3_XMLNS, sendXml } from './xml.js';

/** CopyObject: x-amz-copy-source, metadata and tagging directives, x-amz-copy-source-if-*. */
export async function copyObject(ctx: RequestContext): Promise<void> {
  const { bucket, key } = target(ctx);
  const { objects } = ctx.state;
  const source = copySource(ctx);
  const metadataDirective = directive(ctx, 'x-amz-metadata-directive');
  const taggingDirective = directive(ctx, 'x-amz-tagging-directive');
  if (source.bucket === bucket && source.key === key && metadataDirective === 'COPY') {
    throw s3Errors.invalidRequest(
      "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
    );
  }
  const conditions = writeConditions(ctx);
  const opened = await openCopySource(ctx, source);
  const temp = objects.tempFile();
  let object: NewObject;
  try {
    const { meta } = opened;
    const replaced = propertiesFrom((name) => header(ctx, name), metadataHeaderNames(ctx));
    const properties =
      metadataDirective === 'REPLACE'
        ? replaced
        : {
            contentType: meta.contentType,
            ...pick(meta, [
              'contentDisposition',
              'contentEncoding',
              'contentLanguage',
              'cacheControl',
              'expires',
            ]),
            metadata: meta.metadata,
            tags: meta.tags,
          };
    const md5 = await copyBytes(opened, temp, { start: 0, end: meta.size - 1 });
    object = {
      ...properties,
      tags: taggingDirective === 'REPLACE' ? replaced.tags : meta.tags,
      size: meta.size,
      etag: md5,
      // The bytes are the same; a composite (multipart) checksum does not describe a single-part copy.
      ...(meta.checksum?.type === 'FULL_OBJECT' ? { checksum: meta.checksum } : {}),
    };
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  } finally {
    await opened.handle.close().catch(() => undefined);
  }
  const meta = await objects.commit(bucket, key, temp, object, (current) =>
    checkWriteConditions(current, conditions),
  );
  ctx.res.setHeader('x-amz-copy-source-version-id', 'null');
  for (const [name, value] of Object.entries(checksumHeaders(meta))) ctx.res.setHeader(name, value);
  sendXml(ctx.res, 200, {
    CopyObjectResult: {
      '@_xmlns': S3_XMLNS,
      ETag: quoted(meta.etag),
      LastModified: meta.lastModified,
      ...(meta.checksum?.algorithm === 'SHA256' ? { ChecksumSHA256: meta.checksum.value } : {}),
    },
  });
  ctx.state.events.emitAfter(ctx.res, created(ctx, 'ObjectCreated:Copy', meta));
}

/** `bucket/key` or `/bucket/key`, URL-encoded, with an optional `?versionId=`. */
export function copySource(ctx: RequestContext): { bucket: string; key: string } {
  const raw = header(ctx, 'x-amz-copy-source') ?? '';
  const [path = '', query = ''] = raw.trim().replace(/^\//, '').split('?', 2);
  const versionId = new URLSearchParams(query).get('versionId');
  if (versionId !== null && versionId !== 'null')
    throw s3Errors.invalidArgument('Invalid version id specified');
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    throw s3Errors.invalidArgument('Invalid copy source encoding', { ArgumentName: 'x-amz-copy-source' });
  }
  const slash = decoded.indexOf('/');
  if (slash <= 0 || slash === decoded.length - 1) {
    throw s3Errors.invalidArgument(
      'Copy Source must mention the source bucket and key: sourcebucket/sourcekey',
      {
        ArgumentName: 'x-amz-copy-source',
      },
    );
  }
  return { bucket: decoded.slice(0, slash), key: decoded.slice(slash + 1) };
}

/** Opens the copy source and checks its x-amz-copy-source-if-* conditions. */
export async function openCopySource(
  ctx: RequestContext,
  source: { bucket: string; key: string },
): Promise<OpenedObject> {
  if (!ctx.state.objects.hasBucket(source.bucket))
    throw s3Errors.noSuchBucket(undefined, { BucketName: source.bucket });
  const opened = await ctx.state.objects.open(source.bucket, source.key);
  if (!opened) throw s3Errors.noSuchKey(undefined, { Key: source.key });
  try {
    checkCopySourceConditions(opened.meta, {
      ifMatch: header(ctx, 'x-amz-copy-source-if-match'),
      ifNoneMatch: header(ctx, 'x-amz-copy-source-if-none-match'),
      ifModifiedSince: header(ctx, 'x-amz-copy-source-if-modified-since'),
      ifUnmodifiedSince: header(ctx, 'x-amz-copy-source-if-unmodified-since'),
    });
  } catch (error) {
    await opened.handle.close();
    throw error;
  }
  return opened;
}

/** Streams bytes `start..end` of the source into `path`; answers their MD5 in hex. */
export async function copyBytes(
  opened: OpenedObject,
  path: string,
  range: { start: number; end: number },
): Promise<string> {
  const md5 = createHash('md5');
  const out = createWriteStream(path, { flags: 'wx', mode: 0o600 });
  if (range.end < range.start) {
    out.end();
    await new Promise<void>((done, fail) => out.once('finish', () => done()).once('error', fail));
    return md5.digest('hex');
  }
  const hashing = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      md5.update(chunk);
      done(null, chunk);
    },
  });
  await pipeline(
    opened.handle.createReadStream({
      start: range.start,
      end: range.end,
      autoClose: false,
      highWaterMark: 256 * 1024,
    }),
    hashing,
    out,
  );
  return md5.digest('hex');
}

function directive(ctx: RequestContext, name: string): 'COPY' | 'REPLACE' {
  const value = header(ctx, name)?.trim().toUpperCase() ?? 'COPY';
  if (value !== 'COPY' && value !== 'REPLACE') {
    throw s3Errors.invalidArgument(`Unknown ${name}`, {
      ArgumentName: name,
      ArgumentValue: value.slice(0, 20),
    });
  }
  return value;
}

function pick<T extends object, K extends keyof T>(value: T, keys: K[]): Partial<Pick<T, K>> {
  return Object.fromEntries(keys.filter((k) => value[k] !== undefined).map((k) => [k, value[k]])) as Partial<
    Pick<T, K>
  >;
}
