import { describe, expect, it } from 'vitest';
import {
  checkReadConditions,
  checkWriteConditions,
  etagListMatches,
} from '../../../../local/embedded-s3/conditions.js';
import type { ObjectMeta } from '../../../../local/embedded-s3/object-store-fs.js';
import { parseRange } from '../../../../local/embedded-s3/objects.js';

const code = (run: () => unknown) => {
  try {
    return run();
  } catch (error) {
    return (error as { code: string }).code;
  }
};

describe('parseRange', () => {
  it.each([
    ['bytes=0-9', 100, { start: 0, end: 9 }],
    ['bytes=90-', 100, { start: 90, end: 99 }],
    ['bytes=-10', 100, { start: 90, end: 99 }],
    ['bytes=-500', 100, { start: 0, end: 99 }],
    ['bytes=50-500', 100, { start: 50, end: 99 }],
    // What S3 ignores serves the whole object.
    ['bytes=5-1', 100, null],
    ['bytes=0-1,5-6', 100, null],
    ['items=0-1', 100, null],
    ['bytes=-', 100, null],
    [undefined, 100, null],
  ])('%s of %d bytes is %o', (range, size, expected) => {
    expect(parseRange(range, size)).toEqual(expected);
  });

  it.each([
    ['bytes=100-', 100],
    ['bytes=100-200', 100],
    ['bytes=-0', 100],
    ['bytes=0-0', 0],
    ['bytes=-5', 0],
  ])('%s of %d bytes is 416 InvalidRange', (range, size) => {
    expect(code(() => parseRange(range, size))).toBe('InvalidRange');
  });
});

describe('conditional requests', () => {
  const meta = { etag: 'abc', lastModified: '2026-01-01T10:00:00.500Z' } as ObjectMeta;

  it('matches ETag lists, quoted or not, weak or not, and *', () => {
    expect(etagListMatches('"abc"', 'abc')).toBe(true);
    expect(etagListMatches('"x", W/"abc"', 'abc')).toBe(true);
    expect(etagListMatches('*', 'abc')).toBe(true);
    expect(etagListMatches('"abcd"', 'abc')).toBe(false);
  });

  it.each([
    [{ ifMatch: '"abc"' }, undefined],
    [{ ifMatch: '"other"' }, 'PreconditionFailed'],
    [{ ifNoneMatch: '"abc"' }, 'NotModified'],
    [{ ifNoneMatch: '"other"' }, undefined],
    [{ ifModifiedSince: 'Thu, 01 Jan 2026 10:00:00 GMT' }, 'NotModified'],
    [{ ifModifiedSince: 'Thu, 01 Jan 2026 09:59:59 GMT' }, undefined],
    [{ ifUnmodifiedSince: 'Thu, 01 Jan 2026 09:59:59 GMT' }, 'PreconditionFailed'],
    // If-Match wins over If-Unmodified-Since, If-None-Match over If-Modified-Since (RFC 7232).
    [{ ifMatch: '"abc"', ifUnmodifiedSince: 'Thu, 01 Jan 2026 09:00:00 GMT' }, undefined],
    [{ ifNoneMatch: '"other"', ifModifiedSince: 'Thu, 01 Jan 2026 11:00:00 GMT' }, undefined],
    [{ ifModifiedSince: 'not a date' }, undefined],
  ])('reads with %o answer %s', (conditions, expected) => {
    expect(code(() => checkReadConditions(meta, conditions))).toBe(expected);
  });

  it('refuses a create-once write over any object, and an If-Match write over a missing or other one', () => {
    expect(code(() => checkWriteConditions(meta, { ifNoneMatch: '*' }))).toBe('PreconditionFailed');
    expect(code(() => checkWriteConditions(null, { ifNoneMatch: '*' }))).toBeUndefined();
    expect(code(() => checkWriteConditions(null, { ifMatch: '"abc"' }))).toBe('NoSuchKey');
    expect(code(() => checkWriteConditions(meta, { ifMatch: '"other"' }))).toBe('PreconditionFailed');
    expect(code(() => checkWriteConditions(meta, { ifMatch: '"abc"' }))).toBeUndefined();
  });
});
