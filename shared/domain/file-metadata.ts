import { validationFailed } from './errors.js';

/** API.md 13.3: a file's metadata is a string-to-string map within these bounds. */
export const METADATA_LIMITS = {
  maxKeys: 20,
  /** In characters (code points), as API.md counts them. */
  maxValueLength: 512,
  /** Keys and values together, in UTF-8 bytes. */
  maxTotalBytes: 4096,
} as const;

export const METADATA_KEY_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;

export type FileMetadata = Record<string, string>;

/**
 * Checks a metadata map sent by a client and answers a clean copy (plain object, no prototype
 * tricks), or throws VALIDATION_FAILED naming the first rule broken.
 */
export function normalizeMetadata(input: unknown): FileMetadata {
  if (input === null || typeof input !== 'object' || Array.isArray(input))
    throw validationFailed('metadata must be an object of string values.');
  const entries = Object.entries(input as Record<string, unknown>);
  if (entries.length > METADATA_LIMITS.maxKeys)
    throw validationFailed(`metadata holds at most ${METADATA_LIMITS.maxKeys} keys.`, {
      maxKeys: METADATA_LIMITS.maxKeys,
    });
  const out: FileMetadata = Object.create(null);
  let bytes = 0;
  for (const [key, value] of entries) {
    assertMetadataKey(key);
    if (typeof value !== 'string') throw validationFailed(`metadata.${key} must be a string.`);
    if (!value.isWellFormed()) throw validationFailed(`metadata.${key} must be valid Unicode.`);
    if ([...value].length > METADATA_LIMITS.maxValueLength)
      throw validationFailed(
        `metadata.${key} must be at most ${METADATA_LIMITS.maxValueLength} characters.`,
        { maxValueLength: METADATA_LIMITS.maxValueLength },
      );
    bytes += Buffer.byteLength(key, 'utf8') + Buffer.byteLength(value, 'utf8');
    out[key] = value;
  }
  if (bytes > METADATA_LIMITS.maxTotalBytes)
    throw validationFailed(`metadata must be at most ${METADATA_LIMITS.maxTotalBytes} bytes in all.`, {
      maxTotalBytes: METADATA_LIMITS.maxTotalBytes,
    });
  return { ...out };
}

export function assertMetadataKey(key: string): string {
  // `__proto__` fits the pattern but cannot be a plain key of a JavaScript object: refused.
  if (!METADATA_KEY_PATTERN.test(key) || key === '__proto__')
    throw validationFailed('metadata keys must be 1 to 64 characters of A-Z, a-z, 0-9, _, . or -.');
  return key;
}

/** One `metadata.KEY=value` list filter (API.md 13.3). */
export interface MetadataFilter {
  key: string;
  value: string;
}

export const matchesMetadata = (metadata: FileMetadata | undefined, filter: MetadataFilter | undefined) =>
  !filter ||
  (metadata !== undefined && Object.hasOwn(metadata, filter.key) && metadata[filter.key] === filter.value);
