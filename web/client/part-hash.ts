/**
 * SHA-256 of a slice of a file, as lowercase hex, with `crypto.subtle` (browsers in a secure
 * context, Node 20). One slice is read into memory at a time and dropped once hashed.
 */
export async function sha256Hex(bytes: Blob): Promise<string> {
  const digest = await (globalThis.crypto as Crypto).subtle.digest('SHA-256', await bytes.arrayBuffer());
  let hex = '';
  for (const byte of new Uint8Array(digest)) hex += byte.toString(16).padStart(2, '0');
  return hex;
}

/** `crypto.subtle` exists only in secure contexts (https, localhost): without it, no part checksums. */
export const canHash = (): boolean => typeof globalThis.crypto?.subtle?.digest === 'function';
