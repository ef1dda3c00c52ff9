import { s3Errors } from './errors.js';
import type { ObjectMeta } from './object-store-fs.js';

/**
 * HTTP conditional requests as S3 evaluates them: reads (GET/HEAD), writes (PutObject,
 * CompleteMultipartUpload, POST forms) and copy sources (x-amz-copy-source-if-*).
 */

export interface ReadConditions {
  ifMatch?: string;
  ifNoneMatch?: string;
  ifModifiedSince?: string;
  ifUnmodifiedSince?: string;
}

/** Throws 412 PreconditionFailed or 304 NotModified, in RFC 7232's order (as S3 does). */
export function checkReadConditions(meta: ObjectMeta, conditions: ReadConditions): void {
  const modified = Math.floor(Date.parse(meta.lastModified) / 1000);
  if (conditions.ifMatch !== undefined) {
    if (!etagListMatches(conditions.ifMatch, meta.etag))
      throw s3Errors.preconditionFailed(undefined, { Condition: 'If-Match' });
  } else if (conditions.ifUnmodifiedSince !== undefined) {
    const since = httpDateSeconds(conditions.ifUnmodifiedSince);
    if (since !== null && modified > since) {
      throw s3Errors.preconditionFailed(undefined, { Condition: 'If-Unmodified-Since' });
    }
  }
  if (conditions.ifNoneMatch !== undefined) {
    if (etagListMatches(conditions.ifNoneMatch, meta.etag)) throw s3Errors.notModified();
  } else if (conditions.ifModifiedSince !== undefined) {
    const since = httpDateSeconds(conditions.ifModifiedSince);
    if (since !== null && modified <= since) throw s3Errors.notModified();
  }
}

/** x-amz-copy-source-if-*: every failed condition is 412 (never 304). */
export function checkCopySourceConditions(meta: ObjectMeta, conditions: ReadConditions): void {
  try {
    checkReadConditions(meta, conditions);
  } catch (error) {
    if ((error as { code?: string }).code === 'NotModified') throw s3Errors.preconditionFailed();
    throw error;
  }
}

export interface WriteConditions {
  /** Only `*` (create once) is supported, as on S3. */
  ifNoneMatch?: string;
  ifMatch?: string;
}

/** Refuses write conditions S3 does not implement (If-None-Match other than `*`). */
export function checkedWriteConditions(conditions: WriteConditions): WriteConditions {
  if (conditions.ifNoneMatch !== undefined && conditions.ifNoneMatch.trim() !== '*') {
    throw s3Errors.notImplemented('If-None-Match on writes only supports *', { Header: 'If-None-Match' });
  }
  return conditions;
}

/**
 * Checked against the current object, under the key's lock right before the write lands:
 * If-None-Match `*` fails when any object exists, If-Match when none does (404) or another does.
 */
export function checkWriteConditions(current: ObjectMeta | null, conditions: WriteConditions): void {
  if (conditions.ifNoneMatch !== undefined && current !== null) {
    throw s3Errors.preconditionFailed(undefined, { Condition: 'If-None-Match' });
  }
  if (conditions.ifMatch !== undefined) {
    if (current === null) throw s3Errors.noSuchKey();
    if (!etagListMatches(conditions.ifMatch, current.etag)) {
      throw s3Errors.preconditionFailed(undefined, { Condition: 'If-Match' });
    }
  }
}

/** `*`, or a comma-separated list of (possibly weak) quoted ETags, against an unquoted ETag. */
export function etagListMatches(list: string, etag: string): boolean {
  return list.split(',').some((candidate) => {
    const value = candidate.trim().replace(/^W\//, '');
    return value === '*' || value.replace(/^"(.*)"$/, '$1') === etag;
  });
}

/** Seconds since the epoch of an HTTP date; null when it is not a date (the condition is ignored). */
function httpDateSeconds(value: string): number | null {
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : Math.floor(ms / 1000);
}
