import { s3Errors } from './errors.js';
import type { ObjectMeta, ObjectProperties, Tag } from './object-store-fs.js';

/** S3's defaults and limits for what a writer sets on an object. */
export const DEFAULT_CONTENT_TYPE = 'binary/octet-stream';
const MAX_METADATA_BYTES = 2048;
const MAX_TAGS = 10;
const MAX_TAG_KEY = 128;
const MAX_TAG_VALUE = 256;

/**
 * Content-Type, Content-Disposition, Content-Encoding (without the aws-chunked framing),
 * Content-Language, Cache-Control, Expires, x-amz-meta-* and x-amz-tagging, from request headers
 * or POST form fields (both looked up by lower-case name).
 */
export function propertiesFrom(
  lookup: (name: string) => string | undefined,
  metadataNames: readonly string[],
): ObjectProperties {
  const get = (name: string) => headerSafe(name, lookup(name));
  const metadata: Record<string, string> = {};
  for (const name of metadataNames) {
    const value = get(name);
    if (value !== undefined) metadata[name.slice('x-amz-meta-'.length)] = value;
  }
  const metadataBytes = Object.entries(metadata).reduce(
    (total, [name, value]) => total + Buffer.byteLength(name) + Buffer.byteLength(value),
    0,
  );
  if (metadataBytes > MAX_METADATA_BYTES) {
    throw s3Errors.metadataTooLarge(undefined, { Size: metadataBytes, MaxSizeAllowed: MAX_METADATA_BYTES });
  }
  const encoding = get('content-encoding')
    ?.split(',')
    .map((token) => token.trim())
    .filter((token) => token !== '' && token.toLowerCase() !== 'aws-chunked')
    .join(', ');
  const tagging = get('x-amz-tagging');
  return withoutUndefined({
    contentType: get('content-type') || DEFAULT_CONTENT_TYPE,
    contentDisposition: get('content-disposition'),
    contentEncoding: encoding || undefined,
    contentLanguage: get('content-language'),
    cacheControl: get('cache-control'),
    expires: get('expires'),
    metadata,
    tags: tagging === undefined ? [] : parseTagQuery(tagging),
  });
}

/** `k1=v1&k2=v2` (URL-encoded, as in x-amz-tagging). */
export function parseTagQuery(text: string): Tag[] {
  let pairs: [string, string][];
  try {
    pairs = [...new URLSearchParams(text).entries()];
  } catch {
    throw s3Errors.invalidTag('The x-amz-tagging header is not URL-encoded key=value pairs');
  }
  return checkedTags(pairs.map(([key, value]) => ({ key, value })));
}

/** S3's tag rules: at most 10, unique keys of 1-128 characters, values up to 256. */
export function checkedTags(tags: Tag[]): Tag[] {
  if (tags.length > MAX_TAGS) throw s3Errors.invalidTag('Object tags cannot be greater than 10');
  const keys = new Set<string>();
  for (const tag of tags) {
    if (tag.key.length < 1 || tag.key.length > MAX_TAG_KEY)
      throw s3Errors.invalidTag('The TagKey you have provided is invalid');
    if (tag.value.length > MAX_TAG_VALUE)
      throw s3Errors.invalidTag('The TagValue you have provided is invalid');
    if (keys.has(tag.key)) throw s3Errors.invalidTag('Cannot provide multiple Tags with the same key');
    keys.add(tag.key);
  }
  return tags;
}

/** The headers a GET or HEAD answers with for these properties. */
export function propertyHeaders(meta: ObjectMeta): Record<string, string> {
  const headers: Record<string, string> = { 'Content-Type': meta.contentType };
  if (meta.contentDisposition !== undefined) headers['Content-Disposition'] = meta.contentDisposition;
  if (meta.contentEncoding !== undefined) headers['Content-Encoding'] = meta.contentEncoding;
  if (meta.contentLanguage !== undefined) headers['Content-Language'] = meta.contentLanguage;
  if (meta.cacheControl !== undefined) headers['Cache-Control'] = meta.cacheControl;
  if (meta.expires !== undefined) headers.Expires = meta.expires;
  for (const [name, value] of Object.entries(meta.metadata)) headers[`x-amz-meta-${name}`] = value;
  if (meta.tags.length > 0) headers['x-amz-tagging-count'] = String(meta.tags.length);
  return headers;
}

/** Values answered later as headers must be valid header values (POST fields may not be). */
function headerSafe(name: string, value: string | undefined): string | undefined {
  if (value !== undefined && /[^\t\x20-\x7e\x80-\xff]/.test(value)) {
    throw s3Errors.invalidArgument(`The value of ${name} is not a valid HTTP header value`, {
      ArgumentName: name,
    });
  }
  return value;
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
