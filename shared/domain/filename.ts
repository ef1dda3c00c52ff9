import { validationFailed } from './errors.js';

const MAX_FILENAME_BYTES = 255;
// C0 and C1 controls, DEL, and the bidirectional embedding, override and isolate characters.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const UNSAFE_TEXT = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/u;

/** Text that would confuse a terminal, a log line or a reader: controls and bidi overrides. */
export const hasUnsafeCharacters = (text: string) => UNSAFE_TEXT.test(text);

/**
 * API.md section 10: returns the name to keep (NFC), or throws VALIDATION_FAILED saying why.
 * The name is for display and Content-Disposition only; it never reaches a storage key.
 */
export function normalizeFilename(input: unknown): string {
  if (typeof input !== 'string') throw validationFailed('filename must be a string.');
  const name = input.normalize('NFC');
  if (name.trim() === '') throw validationFailed('filename must not be empty.');
  if (name === '.' || name === '..') throw validationFailed('filename must not be "." or "..".');
  if (Buffer.byteLength(name, 'utf8') > MAX_FILENAME_BYTES)
    throw validationFailed(`filename must be at most ${MAX_FILENAME_BYTES} bytes in UTF-8.`);
  if (hasUnsafeCharacters(name) || /[/\\]/.test(name))
    throw validationFailed(
      'filename must not contain slashes, control characters or bidirectional overrides.',
    );
  if (!name.isWellFormed()) throw validationFailed('filename must be valid Unicode.');
  return name;
}
