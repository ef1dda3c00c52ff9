import { validationFailed } from './errors.js';
import { mimeAliases } from './mime-relations.js';

const MIME = /^([a-z0-9][a-z0-9!#$&^_.+-]{0,126})\/([a-z0-9][a-z0-9!#$&^_.+-]{0,126})$/;
const PATTERN = /^([a-z0-9][a-z0-9!#$&^_.+-]{0,126})\/(\*|[a-z0-9][a-z0-9!#$&^_.+-]{0,126})$/;

/** `Text/Plain; charset=utf-8` → `text/plain`; throws on anything that is not a media type. */
export function normalizeMimeType(input: unknown, field = 'contentType'): string {
  if (typeof input !== 'string') throw validationFailed(`${field} must be a string.`);
  const essence = (input.split(';')[0] ?? '').trim().toLowerCase();
  if (!MIME.test(essence)) throw validationFailed(`${field} must be a media type such as application/pdf.`);
  return essence;
}

/**
 * The `charset` a text upload declares (`text/plain; charset=ISO-8859-1`), as the WHATWG
 * Encoding Standard names it (`windows-1252`: what browsers decode ISO-8859-1 as), or null when
 * none is given or the type is not text. A label no decoder knows is a 400: the file could not
 * be read as its uploader means it.
 */
export function declaredCharset(input: string, isText: boolean, field = 'contentType'): string | null {
  const match = /;\s*charset\s*=\s*("?)([^";\s]*)\1/i.exec(input);
  if (!match || !isText) return null;
  const label = (match[2] ?? '').toLowerCase();
  try {
    return new TextDecoder(label).encoding;
  } catch {
    throw validationFailed(`${field} names a charset no decoder knows: "${label.slice(0, 40)}".`, {
      charset: label.slice(0, 40),
    });
  }
}

/** Validates a bucket's allowed-type entry: an exact type or a `type/*` wildcard. */
export function normalizeMimePattern(input: unknown): string {
  if (typeof input !== 'string') throw validationFailed('allowedMimeTypes must hold strings.');
  const pattern = input.trim().toLowerCase();
  if (!PATTERN.test(pattern))
    throw validationFailed(`"${input}" is not a media type or a type/* wildcard.`, { value: input });
  return pattern;
}

export function mimeMatches(mimeType: string, pattern: string): boolean {
  if (pattern.endsWith('/*')) return mimeType.startsWith(pattern.slice(0, -1));
  return mimeType === pattern;
}

/**
 * `null` allowed list means any type. Aliases match each other: a bucket that allows
 * `image/vnd.microsoft.icon` allows what file-type names `image/x-icon`.
 */
export function isMimeAllowed(mimeType: string, allowed: readonly string[] | null): boolean {
  if (allowed === null || allowed.some((p) => mimeMatches(mimeType, p))) return true;
  const names = mimeAliases(mimeType);
  return allowed.some((p) => [...names].some((name) => mimeMatches(name, p)));
}

// Types a browser would execute or render as active content: served as octet-stream.
const ACTIVE_CONTENT = new Set([
  'text/html',
  'application/xhtml+xml',
  'image/svg+xml',
  'text/xml',
  'application/xml',
  'text/javascript',
  'application/javascript',
  'application/ecmascript',
  'text/ecmascript',
  'application/x-javascript',
  'text/xsl',
  'application/xslt+xml',
  'application/rdf+xml',
  'application/wasm',
  'multipart/x-mixed-replace',
]);

/**
 * The `Content-Type` a download is served with: active content never as itself, and text with
 * the charset it was declared in (the bytes are what the uploader wrote, not re-encoded).
 */
export function safeResponseContentType(mimeType: string, charset?: string | null): string {
  if (ACTIVE_CONTENT.has(mimeType) || mimeType.endsWith('+xml')) return 'application/octet-stream';
  return charset ? `${mimeType}; charset=${charset}` : mimeType;
}
