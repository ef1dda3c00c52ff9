import {
  createBucket,
  deleteBucket,
  deleteObjects,
  getBucketLocation,
  getBucketVersioning,
  headBucket,
  listBuckets,
  listObjects,
  listObjectsV2,
} from './buckets.js';
import { copyObject } from './copy-object.js';
import { s3Errors } from './errors.js';
import {
  abortMultipartUpload,
  completeMultipartUpload,
  createMultipartUpload,
  listMultipartUploads,
  listParts,
  uploadPart,
  uploadPartCopy,
} from './multipart.js';
import { deleteObject, getObject, headObject, putObject } from './objects.js';
import { postObject } from './post-object.js';
import type { RequestContext } from './request.js';
import { deleteObjectTagging, getObjectTagging, putObjectTagging } from './tagging.js';

export type Handler = (ctx: RequestContext) => Promise<void>;

/** Sub-resources of S3's API this store does not implement: 501 rather than a silent wrong answer. */
const UNSUPPORTED = [
  'accelerate',
  'acl',
  'analytics',
  'attributes',
  'cors',
  'encryption',
  'intelligent-tiering',
  'inventory',
  'legal-hold',
  'lifecycle',
  'logging',
  'metrics',
  'notification',
  'object-lock',
  'ownershipControls',
  'policy',
  'policyStatus',
  'publicAccessBlock',
  'replication',
  'requestPayment',
  'restore',
  'retention',
  'select',
  'torrent',
  'versions',
  'website',
];

/**
 * The operation a request names: path-style only (`/bucket/key`), with `/bucket` and `/bucket/`
 * both the bucket itself, then method, sub-resource and headers, as S3 dispatches them.
 */
export function route(ctx: Pick<RequestContext, 'method' | 'bucket' | 'key' | 'query' | 'req'>): Handler {
  const has = (name: string) => ctx.query.has(name);
  const unsupported = UNSUPPORTED.find(has);
  if (unsupported) return notImplemented(unsupported);
  const copy = ctx.req.headers['x-amz-copy-source'] !== undefined;
  const { method } = ctx;

  if (ctx.bucket === null) {
    if (method === 'GET') return listBuckets;
    return methodNotAllowed;
  }
  if (ctx.key === null) {
    switch (method) {
      case 'PUT':
        return has('tagging') || has('versioning') ? notImplemented('bucket configuration') : createBucket;
      case 'HEAD':
        return headBucket;
      case 'DELETE':
        return has('tagging') ? notImplemented('tagging') : deleteBucket;
      case 'POST':
        return has('delete') ? deleteObjects : postObject;
      case 'GET':
        if (has('uploads')) return listMultipartUploads;
        if (has('location')) return getBucketLocation;
        if (has('versioning')) return getBucketVersioning;
        if (has('tagging')) return notImplemented('tagging');
        return ctx.query.get('list-type') === '2' ? listObjectsV2 : listObjects;
    }
    return methodNotAllowed;
  }
  switch (method) {
    case 'PUT':
      if (has('uploadId') || has('partNumber')) return copy ? uploadPartCopy : uploadPart;
      if (has('tagging')) return putObjectTagging;
      return copy ? copyObject : putObject;
    case 'GET':
      if (has('uploadId')) return listParts;
      if (has('tagging')) return getObjectTagging;
      return getObject;
    case 'HEAD':
      return headObject;
    case 'DELETE':
      if (has('uploadId')) return abortMultipartUpload;
      if (has('tagging')) return deleteObjectTagging;
      return deleteObject;
    case 'POST':
      if (has('uploads')) return createMultipartUpload;
      if (has('uploadId')) return completeMultipartUpload;
      return methodNotAllowed;
  }
  return methodNotAllowed;
}

/** POST forms carry their own signature (the policy's), checked by the handler. */
export function authenticatesItself(handler: Handler): boolean {
  return handler === postObject;
}

function notImplemented(what: string): Handler {
  return async () => {
    throw s3Errors.notImplemented(`${what} is not implemented by the embedded store`);
  };
}

async function methodNotAllowed(): Promise<void> {
  throw s3Errors.methodNotAllowed();
}
