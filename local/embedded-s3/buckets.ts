import { escapeUri } from '@smithy/core/protocols';
import { s3Errors } from './errors.js';
import type { ListPage } from './object-store-fs.js';
import { quoted } from './objects.js';
import { bucketOf, type RequestContext } from './request.js';
import { S3_XMLNS, sendXml, textOf } from './xml.js';
import { elements, readXmlRequest } from './xml-request.js';

const MAX_KEYS = 1000;
const MAX_DELETE_KEYS = 1000;

export async function listBuckets(ctx: RequestContext): Promise<void> {
  sendXml(ctx.res, 200, {
    ListAllMyBucketsResult: {
      '@_xmlns': S3_XMLNS,
      Owner: owner(ctx),
      Buckets: {
        Bucket: ctx.state.objects.listBuckets().map((b) => ({ Name: b.name, CreationDate: b.created })),
      },
    },
  });
}

export async function createBucket(ctx: RequestContext): Promise<void> {
  const bucket = bucketOf(ctx);
  // The optional CreateBucketConfiguration body names a region; one store serves them all.
  ctx.req.resume();
  if (!(await ctx.state.objects.createBucket(bucket))) {
    throw s3Errors.bucketAlreadyOwnedByYou(undefined, { BucketName: bucket });
  }
  ctx.res.writeHead(200, { Location: `/${bucket}`, 'Content-Length': '0' });
  ctx.res.end();
}

export async function headBucket(ctx: RequestContext): Promise<void> {
  ctx.state.objects.requireBucket(bucketOf(ctx));
  ctx.res.writeHead(200, { 'x-amz-bucket-region': ctx.state.region });
  ctx.res.end();
}

export async function deleteBucket(ctx: RequestContext): Promise<void> {
  await ctx.state.objects.deleteBucket(bucketOf(ctx));
  ctx.res.writeHead(204);
  ctx.res.end();
}

export async function getBucketLocation(ctx: RequestContext): Promise<void> {
  ctx.state.objects.requireBucket(bucketOf(ctx));
  // us-east-1 is the empty constraint, as S3 answers it.
  const region = ctx.state.region === 'us-east-1' ? '' : ctx.state.region;
  sendXml(ctx.res, 200, { LocationConstraint: { '@_xmlns': S3_XMLNS, '#text': region } });
}

export async function getBucketVersioning(ctx: RequestContext): Promise<void> {
  ctx.state.objects.requireBucket(bucketOf(ctx));
  sendXml(ctx.res, 200, { VersioningConfiguration: { '@_xmlns': S3_XMLNS } });
}

/** ListObjectsV2: prefix, delimiter, max-keys, continuation-token, start-after, encoding-type. */
export async function listObjectsV2(ctx: RequestContext): Promise<void> {
  const bucket = bucketOf(ctx);
  const q = listParameters(ctx);
  const token = ctx.query.get('continuation-token');
  const startAfter = ctx.query.get('start-after') ?? '';
  const after = token !== undefined ? decodeToken(token) : startAfter;
  const page = ctx.state.objects.list(bucket, {
    prefix: q.prefix,
    delimiter: q.delimiter,
    after,
    maxKeys: q.maxKeys,
  });
  const encode = q.encode;
  const withOwner = ctx.query.get('fetch-owner') === 'true';
  sendXml(ctx.res, 200, {
    ListBucketResult: {
      '@_xmlns': S3_XMLNS,
      Name: bucket,
      Prefix: encode(q.prefix),
      ...(q.delimiter ? { Delimiter: encode(q.delimiter) } : {}),
      MaxKeys: q.maxKeys,
      KeyCount: page.objects.length + page.commonPrefixes.length,
      IsTruncated: page.isTruncated,
      ...(token !== undefined ? { ContinuationToken: token } : {}),
      ...(page.isTruncated && page.last !== null ? { NextContinuationToken: encodeToken(page.last) } : {}),
      ...(startAfter ? { StartAfter: encode(startAfter) } : {}),
      ...(q.encodingType ? { EncodingType: q.encodingType } : {}),
      ...listedItems(ctx, page, encode, withOwner),
    },
  });
}

/** ListObjects (v1): marker instead of a token; NextMarker only with a delimiter, as S3 does. */
export async function listObjects(ctx: RequestContext): Promise<void> {
  const bucket = bucketOf(ctx);
  const q = listParameters(ctx);
  const marker = ctx.query.get('marker') ?? '';
  const page = ctx.state.objects.list(bucket, {
    prefix: q.prefix,
    delimiter: q.delimiter,
    after: marker,
    maxKeys: q.maxKeys,
  });
  const encode = q.encode;
  sendXml(ctx.res, 200, {
    ListBucketResult: {
      '@_xmlns': S3_XMLNS,
      Name: bucket,
      Prefix: encode(q.prefix),
      Marker: encode(marker),
      ...(q.delimiter ? { Delimiter: encode(q.delimiter) } : {}),
      MaxKeys: q.maxKeys,
      IsTruncated: page.isTruncated,
      ...(page.isTruncated && q.delimiter && page.last !== null ? { NextMarker: encode(page.last) } : {}),
      ...(q.encodingType ? { EncodingType: q.encodingType } : {}),
      ...listedItems(ctx, page, encode, true),
    },
  });
}

/** DeleteObjects: up to 1000 keys, Quiet mode, per-key results; the body must carry a digest. */
export async function deleteObjects(ctx: RequestContext): Promise<void> {
  const bucket = bucketOf(ctx);
  ctx.state.objects.requireBucket(bucket);
  const request = await readXmlRequest(ctx, 'Delete', { requireDigest: true });
  const quiet = textOf(request.Quiet)?.trim().toLowerCase() === 'true';
  const targets = elements(request, 'Object');
  if (targets.length === 0 || targets.length > MAX_DELETE_KEYS) throw s3Errors.malformedXml();
  const deleted: { Key: string }[] = [];
  const failed: { Key: string; Code: string; Message: string }[] = [];
  for (const target of targets) {
    const key = textOf(target.Key);
    if (key === undefined || key === '') throw s3Errors.malformedXml();
    const versionId = textOf(target.VersionId);
    if (versionId !== undefined && versionId !== 'null') {
      failed.push({ Key: key, Code: 'NoSuchVersion', Message: 'The specified version does not exist.' });
      continue;
    }
    try {
      await ctx.state.objects.delete(bucket, key);
      deleted.push({ Key: key });
    } catch {
      failed.push({
        Key: key,
        Code: 'InternalError',
        Message: 'We encountered an internal error. Please try again.',
      });
    }
  }
  sendXml(ctx.res, 200, {
    DeleteResult: {
      '@_xmlns': S3_XMLNS,
      ...(quiet ? {} : { Deleted: deleted }),
      ...(failed.length > 0 ? { Error: failed } : {}),
    },
  });
}

function listParameters(ctx: RequestContext) {
  const maxKeysText = ctx.query.get('max-keys');
  if (maxKeysText !== undefined && !/^\d{1,9}$/.test(maxKeysText)) {
    throw s3Errors.invalidArgument('Provided max-keys not an integer or within integer range', {
      ArgumentName: 'max-keys',
      ArgumentValue: maxKeysText.slice(0, 20),
    });
  }
  const encodingType = ctx.query.get('encoding-type');
  if (encodingType !== undefined && encodingType !== 'url') {
    throw s3Errors.invalidArgument('Invalid Encoding Method specified in Request', {
      ArgumentName: 'encoding-type',
    });
  }
  return {
    prefix: ctx.query.get('prefix') ?? '',
    delimiter: ctx.query.get('delimiter') ?? '',
    maxKeys: Math.min(maxKeysText === undefined ? MAX_KEYS : Number(maxKeysText), MAX_KEYS),
    encodingType,
    encode:
      encodingType === 'url'
        ? (text: string) => escapeUri(text).replace(/%2F/g, '/')
        : (text: string) => text,
  };
}

function listedItems(
  ctx: RequestContext,
  page: ListPage,
  encode: (text: string) => string,
  withOwner: boolean,
) {
  return {
    Contents: page.objects.map((object) => ({
      Key: encode(object.key),
      LastModified: object.lastModified,
      ETag: quoted(object.etag),
      Size: object.size,
      ...(withOwner ? { Owner: owner(ctx) } : {}),
      StorageClass: 'STANDARD',
    })),
    CommonPrefixes: page.commonPrefixes.map((prefix) => ({ Prefix: encode(prefix) })),
  };
}

function owner(ctx: RequestContext) {
  return { ID: ctx.state.ownerId, DisplayName: 'stowage' };
}

/** Continuation tokens are opaque to clients: the last key answered, base64url-encoded. */
function encodeToken(last: string): string {
  return Buffer.from(last, 'utf8').toString('base64url');
}

function decodeToken(token: string): string {
  const decoded = Buffer.from(token, 'base64url');
  if (token === '' || !/^[A-Za-z0-9_-]+$/.test(token) || decoded.toString('base64url') !== token) {
    throw s3Errors.invalidArgument('The continuation token provided is incorrect', {
      ArgumentName: 'continuation-token',
    });
  }
  return decoded.toString('utf8');
}
