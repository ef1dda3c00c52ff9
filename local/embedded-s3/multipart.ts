import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { escapeUri } from '@smithy/core/protocols';
import { receiveToFile } from './body.js';
import { parseAlgorithm } from './checksums.js';
import { checkWriteConditions } from './conditions.js';
import { copyBytes, copySource, openCopySource } from './copy-object.js';
import { s3Errors } from './errors.js';
import { propertiesFrom } from './object-properties.js';
import type { StoredChecksum } from './object-store-fs.js';
import {
  checksumHeaders,
  created,
  MAX_OBJECT_BYTES,
  metadataHeaderNames,
  quoted,
  writeConditions,
} from './objects.js';
import { bodySpec, bucketOf, header, type RequestContext, target } from './request.js';
import { MAX_PART_NUMBER, type PartMeta, type UploadMeta } from './upload-store-fs.js';
import { S3_XMLNS, sendXml, textOf } from './xml.js';
import { elements, readXmlRequest } from './xml-request.js';

/** S3's minimum size of every part but the last. */
export const MIN_PART_BYTES = 5 * 1024 * 1024;
const MAX_LISTED = 1000;

export async function createMultipartUpload(ctx: RequestContext): Promise<void> {
  const { bucket, key } = target(ctx);
  const properties = propertiesFrom((name) => header(ctx, name), metadataHeaderNames(ctx));
  const algorithmHeader = header(ctx, 'x-amz-checksum-algorithm');
  const algorithm = algorithmHeader === undefined ? undefined : parseAlgorithm(algorithmHeader);
  ctx.req.resume();
  const upload = await ctx.state.uploads.create(bucket, key, properties, algorithm);
  if (algorithm) ctx.res.setHeader('x-amz-checksum-algorithm', algorithm);
  sendXml(ctx.res, 200, {
    InitiateMultipartUploadResult: {
      '@_xmlns': S3_XMLNS,
      Bucket: bucket,
      Key: key,
      UploadId: upload.uploadId,
    },
  });
}

export async function uploadPart(ctx: RequestContext): Promise<void> {
  const { bucket, key } = target(ctx);
  const partNumber = partNumberOf(ctx);
  const upload = await ctx.state.uploads.get(bucket, uploadIdOf(ctx), key);
  const spec = bodySpec(ctx, MAX_OBJECT_BYTES);
  const declared =
    spec.checksum?.in === 'header' ? spec.checksum.checksum.algorithm : spec.checksum?.algorithm;
  if (upload.checksumAlgorithm && declared && declared !== upload.checksumAlgorithm) {
    throw s3Errors.invalidRequest(
      `Checksum Type mismatch occurred, expected checksum Type: ${upload.checksumAlgorithm.toLowerCase()}, actual checksum Type: ${declared.toLowerCase()}`,
    );
  }
  const temp = ctx.state.objects.tempFile();
  const body = await receiveToFile(ctx.req, spec, temp);
  const part = await ctx.state.uploads.putPart(bucket, upload, temp, {
    partNumber,
    size: body.size,
    etag: body.md5Hex,
    ...(body.checksum ? { checksum: body.checksum } : {}),
  });
  const checksum = part.checksum
    ? { [`x-amz-checksum-${part.checksum.algorithm.toLowerCase()}`]: part.checksum.value }
    : {};
  ctx.res.writeHead(200, { ETag: quoted(part.etag), ...checksum, 'Content-Length': '0' });
  ctx.res.end();
}

/** UploadPartCopy: a part from (a range of) an existing object, x-amz-copy-source-range. */
export async function uploadPartCopy(ctx: RequestContext): Promise<void> {
  const { bucket, key } = target(ctx);
  const partNumber = partNumberOf(ctx);
  const upload = await ctx.state.uploads.get(bucket, uploadIdOf(ctx), key);
  const opened = await openCopySource(ctx, copySource(ctx));
  const temp = ctx.state.objects.tempFile();
  let part: PartMeta;
  try {
    const range = copySourceRange(header(ctx, 'x-amz-copy-source-range'), opened.meta.size);
    if (range.end - range.start + 1 > MAX_OBJECT_BYTES) throw s3Errors.entityTooLarge();
    const md5 = await copyBytes(opened, temp, range);
    part = await ctx.state.uploads.putPart(bucket, upload, temp, {
      partNumber,
      size: range.end - range.start + 1,
      etag: md5,
    });
  } finally {
    await opened.handle.close().catch(() => undefined);
    await rm(temp, { force: true });
  }
  sendXml(ctx.res, 200, {
    CopyPartResult: { '@_xmlns': S3_XMLNS, ETag: quoted(part.etag), LastModified: part.lastModified },
  });
}

/** ListParts: part-number-marker and max-parts paging. */
export async function listParts(ctx: RequestContext): Promise<void> {
  const { bucket, key } = target(ctx);
  const upload = await ctx.state.uploads.get(bucket, uploadIdOf(ctx), key);
  const marker = integerParameter(ctx, 'part-number-marker', 0);
  const maxParts = Math.min(integerParameter(ctx, 'max-parts', MAX_LISTED), MAX_LISTED);
  const after = (await ctx.state.uploads.parts(bucket, upload.uploadId)).filter((p) => p.partNumber > marker);
  const page = after.slice(0, maxParts);
  const last = page[page.length - 1];
  sendXml(ctx.res, 200, {
    ListPartsResult: {
      '@_xmlns': S3_XMLNS,
      Bucket: bucket,
      Key: key,
      UploadId: upload.uploadId,
      PartNumberMarker: marker,
      ...(last ? { NextPartNumberMarker: last.partNumber } : {}),
      MaxParts: maxParts,
      IsTruncated: after.length > page.length,
      Part: page.map((part) => ({
        PartNumber: part.partNumber,
        LastModified: part.lastModified,
        ETag: quoted(part.etag),
        Size: part.size,
        ...(part.checksum?.algorithm === 'SHA256' ? { ChecksumSHA256: part.checksum.value } : {}),
      })),
      Initiator: { ID: ctx.state.ownerId, DisplayName: 'stowage' },
      Owner: { ID: ctx.state.ownerId, DisplayName: 'stowage' },
      StorageClass: 'STANDARD',
      ...(upload.checksumAlgorithm ? { ChecksumAlgorithm: upload.checksumAlgorithm } : {}),
    },
  });
}

/**
 * CompleteMultipartUpload: parts in ascending order, each ETag (and checksum) matching the part
 * received, every part but the last at least 5 MiB; the object is assembled by streaming the
 * parts into one file, with S3's multipart ETag and, when every part carried a SHA-256, S3's
 * composite checksum. If-None-Match `*` and If-Match hold as on PutObject.
 */
export async function completeMultipartUpload(ctx: RequestContext): Promise<void> {
  const { bucket, key } = target(ctx);
  const { objects, uploads } = ctx.state;
  const uploadId = uploadIdOf(ctx);
  await uploads.get(bucket, uploadId, key);
  const conditions = writeConditions(ctx);
  checkWriteConditions(await objects.head(bucket, key), conditions);
  const listed = listedParts(await readXmlRequest(ctx, 'CompleteMultipartUpload'));

  const meta = await uploads.withUploadLock(uploadId, async () => {
    const upload = await uploads.get(bucket, uploadId, key);
    const parts = chosenParts(listed, await uploads.parts(bucket, uploadId), uploadId);
    const temp = objects.tempFile();
    const size = await assemble(ctx, upload, parts, temp);
    const etag = `${createHash('md5')
      .update(Buffer.concat(parts.map((p) => Buffer.from(p.etag, 'hex'))))
      .digest('hex')}-${parts.length}`;
    const committed = await objects.commit(
      bucket,
      key,
      temp,
      { ...upload.properties, size, etag, parts: parts.length, ...compositeChecksum(parts) },
      (current) => checkWriteConditions(current, conditions),
    );
    await uploads.remove(bucket, uploadId);
    return committed;
  });
  for (const [name, value] of Object.entries(checksumHeaders(meta))) ctx.res.setHeader(name, value);
  const host = header(ctx, 'host') ?? 'localhost';
  sendXml(ctx.res, 200, {
    CompleteMultipartUploadResult: {
      '@_xmlns': S3_XMLNS,
      Location: `http://${host}/${bucket}/${key.split('/').map(escapeUri).join('/')}`,
      Bucket: bucket,
      Key: key,
      ETag: quoted(meta.etag),
      ...(meta.checksum?.algorithm === 'SHA256'
        ? { ChecksumSHA256: meta.checksum.value, ChecksumType: meta.checksum.type }
        : {}),
    },
  });
  ctx.state.events.emitAfter(ctx.res, created(ctx, 'ObjectCreated:CompleteMultipartUpload', meta));
}

export async function abortMultipartUpload(ctx: RequestContext): Promise<void> {
  const { bucket, key } = target(ctx);
  const uploadId = uploadIdOf(ctx);
  await ctx.state.uploads.withUploadLock(uploadId, async () => {
    await ctx.state.uploads.get(bucket, uploadId, key);
    await ctx.state.uploads.remove(bucket, uploadId);
  });
  ctx.res.writeHead(204);
  ctx.res.end();
}

/** ListMultipartUploads: prefix, key-marker, upload-id-marker, max-uploads (no delimiter). */
export async function listMultipartUploads(ctx: RequestContext): Promise<void> {
  const bucket = bucketOf(ctx);
  if (ctx.query.get('delimiter'))
    throw s3Errors.notImplemented('ListMultipartUploads with a delimiter is not implemented here');
  const prefix = ctx.query.get('prefix') ?? '';
  const keyMarker = ctx.query.get('key-marker') ?? '';
  const uploadIdMarker = ctx.query.get('upload-id-marker') ?? '';
  const maxUploads = Math.min(integerParameter(ctx, 'max-uploads', MAX_LISTED), MAX_LISTED);
  const after = (await ctx.state.uploads.list(bucket)).filter(
    (u) =>
      u.key.startsWith(prefix) &&
      (keyMarker === '' ||
        Buffer.compare(Buffer.from(u.key), Buffer.from(keyMarker)) > 0 ||
        (u.key === keyMarker && uploadIdMarker !== '' && u.uploadId > uploadIdMarker)),
  );
  const page = after.slice(0, maxUploads);
  const last = page[page.length - 1];
  sendXml(ctx.res, 200, {
    ListMultipartUploadsResult: {
      '@_xmlns': S3_XMLNS,
      Bucket: bucket,
      KeyMarker: keyMarker,
      UploadIdMarker: uploadIdMarker,
      ...(last ? { NextKeyMarker: last.key, NextUploadIdMarker: last.uploadId } : {}),
      Prefix: prefix,
      MaxUploads: maxUploads,
      IsTruncated: after.length > page.length,
      Upload: page.map((u) => ({
        Key: u.key,
        UploadId: u.uploadId,
        Initiator: { ID: ctx.state.ownerId, DisplayName: 'stowage' },
        Owner: { ID: ctx.state.ownerId, DisplayName: 'stowage' },
        StorageClass: 'STANDARD',
        Initiated: u.initiated,
      })),
    },
  });
}

interface ListedPart {
  partNumber: number;
  etag: string;
  checksumSha256?: string;
}

function listedParts(request: Record<string, unknown>): ListedPart[] {
  const parts = elements(request, 'Part').map((part) => {
    const number = textOf(part.PartNumber)?.trim() ?? '';
    const etag = textOf(part.ETag)?.trim();
    if (!/^\d{1,5}$/.test(number) || etag === undefined) throw s3Errors.malformedXml();
    const checksumSha256 = textOf(part.ChecksumSHA256)?.trim();
    return {
      partNumber: Number(number),
      etag: etag.replace(/^"(.*)"$/, '$1'),
      ...(checksumSha256 ? { checksumSha256 } : {}),
    };
  });
  if (parts.length === 0) throw s3Errors.malformedXml();
  return parts;
}

/** The stored parts the request names, after S3's checks (order, ETags, checksums, sizes). */
function chosenParts(listed: ListedPart[], stored: PartMeta[], uploadId: string): PartMeta[] {
  const byNumber = new Map(stored.map((part) => [part.partNumber, part]));
  const chosen: PartMeta[] = [];
  for (const [index, wanted] of listed.entries()) {
    const previous = listed[index - 1];
    if (previous && wanted.partNumber <= previous.partNumber)
      throw s3Errors.invalidPartOrder(undefined, { UploadId: uploadId });
    const part = byNumber.get(wanted.partNumber);
    const checksumMatches =
      wanted.checksumSha256 === undefined ||
      (part?.checksum?.algorithm === 'SHA256' && part.checksum.value === wanted.checksumSha256);
    if (!part || part.etag !== wanted.etag || !checksumMatches) {
      throw s3Errors.invalidPart(undefined, {
        UploadId: uploadId,
        PartNumber: wanted.partNumber,
        ETag: wanted.etag,
      });
    }
    chosen.push(part);
  }
  for (const part of chosen.slice(0, -1)) {
    if (part.size < MIN_PART_BYTES) {
      throw s3Errors.entityTooSmall('Your proposed upload is smaller than the minimum allowed object size.', {
        ProposedSize: part.size,
        MinSizeAllowed: MIN_PART_BYTES,
        PartNumber: part.partNumber,
        ETag: quoted(part.etag),
      });
    }
  }
  return chosen;
}

/** Streams the parts, in order, into `path`; answers the object's size. */
async function assemble(
  ctx: RequestContext,
  upload: UploadMeta,
  parts: PartMeta[],
  path: string,
): Promise<number> {
  const out = createWriteStream(path, { flags: 'wx', mode: 0o600 });
  try {
    // One destination for every part: a pipeline per part (`end: false`) would leave its
    // listeners on `out`, ten parts past Node's leak warning. `once` rejects on the stream's error.
    for (const part of parts)
      for await (const chunk of createReadStream(
        ctx.state.uploads.partPath(target(ctx).bucket, upload.uploadId, part),
      ))
        if (!out.write(chunk)) await once(out, 'drain');
    await new Promise<void>((done, fail) => {
      out.once('error', fail);
      out.end(done);
    });
  } catch (error) {
    out.destroy();
    await rm(path, { force: true });
    throw error;
  }
  return parts.reduce((total, part) => total + part.size, 0);
}

/** S3's checksum of checksums (`base64-N`), only when every part carried a SHA-256. */
function compositeChecksum(parts: PartMeta[]): { checksum?: StoredChecksum } {
  if (!parts.every((part) => part.checksum?.algorithm === 'SHA256')) return {};
  const digests = Buffer.concat(parts.map((part) => Buffer.from(part.checksum?.value ?? '', 'base64')));
  const value = `${createHash('sha256').update(digests).digest('base64')}-${parts.length}`;
  return { checksum: { algorithm: 'SHA256', value, type: 'COMPOSITE' } };
}

function partNumberOf(ctx: RequestContext): number {
  const text = ctx.query.get('partNumber') ?? '';
  const number = Number(text);
  if (!/^\d{1,5}$/.test(text) || number < 1 || number > MAX_PART_NUMBER) {
    throw s3Errors.invalidArgument('Part number must be an integer between 1 and 10000, inclusive', {
      ArgumentName: 'partNumber',
      ArgumentValue: text.slice(0, 20),
    });
  }
  return number;
}

function uploadIdOf(ctx: RequestContext): string {
  return ctx.query.get('uploadId') ?? '';
}

function integerParameter(ctx: RequestContext, name: string, fallback: number): number {
  const text = ctx.query.get(name);
  if (text === undefined) return fallback;
  if (!/^\d{1,9}$/.test(text)) {
    throw s3Errors.invalidArgument(`${name} must be a non-negative integer`, { ArgumentName: name });
  }
  return Number(text);
}

/** `bytes=a-b` within the source object (S3 requires both ends); no header copies it whole. */
function copySourceRange(value: string | undefined, size: number): { start: number; end: number } {
  if (value === undefined) return { start: 0, end: size - 1 };
  const match = /^bytes=(\d+)-(\d+)$/.exec(value.trim());
  const start = Number(match?.[1]);
  const end = Number(match?.[2]);
  if (!match || end < start || end >= size) {
    throw s3Errors.invalidArgument(`Range specified is not valid for source object of size: ${size}`, {
      ArgumentName: 'x-amz-copy-source-range',
      ArgumentValue: value.slice(0, 60),
    });
  }
  return { start, end };
}
