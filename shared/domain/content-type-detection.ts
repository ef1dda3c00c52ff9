import { fileTypeFromBuffer } from 'file-type';

/**
 * What the first bytes of an object say it is, and whether that agrees with what the client
 * declared (API.md section 6). Pure: the bytes come from a ranged read done elsewhere.
 */
export async function detectMimeType(firstBytes: Uint8Array): Promise<string | null> {
  if (firstBytes.length === 0) return null;
  const result = await fileTypeFromBuffer(firstBytes);
  return result?.mime ?? null;
}

const ALIASES: Record<string, string> = {
  'image/jpg': 'image/jpeg',
  'image/pjpeg': 'image/jpeg',
  'image/x-png': 'image/png',
  'application/x-pdf': 'application/pdf',
  'application/x-zip-compressed': 'application/zip',
  'application/x-zip': 'application/zip',
  'application/x-gzip': 'application/gzip',
  'audio/mp3': 'audio/mpeg',
};

export const canonicalMimeType = (mimeType: string) => ALIASES[mimeType] ?? mimeType;

// Containers whose first bytes name only the container: a DOCX may sniff as a plain ZIP.
const CONTAINER_MEMBERS: Record<string, readonly string[]> = {
  'application/zip': [
    'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
    'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    'application/vnd.openxmlformats-officedocument.presentationml.presentation',
    'application/vnd.oasis.opendocument.text',
    'application/vnd.oasis.opendocument.spreadsheet',
    'application/vnd.oasis.opendocument.presentation',
    'application/epub+zip',
    'application/java-archive',
    'application/vnd.android.package-archive',
  ],
  'application/x-cfb': ['application/msword', 'application/vnd.ms-excel', 'application/vnd.ms-powerpoint'],
};

const SIGNED_TYPES = new Set([
  'application/pdf',
  'image/png',
  'image/jpeg',
  'image/gif',
  'image/webp',
  'image/bmp',
  'image/tiff',
  'image/avif',
  'image/heic',
  'application/gzip',
  'application/x-7z-compressed',
  'application/x-rar-compressed',
  'application/x-tar',
  'application/x-bzip2',
  'audio/mpeg',
  'audio/wav',
  'audio/ogg',
  'video/mp4',
  'video/webm',
  'video/quicktime',
  'application/wasm',
  'application/x-msdownload',
  'application/x-elf',
  ...Object.keys(CONTAINER_MEMBERS),
  ...Object.values(CONTAINER_MEMBERS).flat(),
]);

/** A declared type that real files of that type always announce in their first bytes. */
export const hasKnownSignature = (mimeType: string) => SIGNED_TYPES.has(canonicalMimeType(mimeType));

export interface TypeVerdict {
  /** The type the file is stored under: the detected one where the bytes name one. */
  mimeType: string;
  /** The bytes contradict the declaration, or lack the signature the declared type has. */
  mismatch: boolean;
}

export function judgeType(declared: string, detected: string | null): TypeVerdict {
  const want = canonicalMimeType(declared);
  if (detected === null) return { mimeType: want, mismatch: hasKnownSignature(want) };
  if (detected === want) return { mimeType: want, mismatch: false };
  // A specific member of a container family keeps its declared (more precise) name.
  if (CONTAINER_MEMBERS[detected]?.includes(want)) return { mimeType: want, mismatch: false };
  if (want === 'application/octet-stream') return { mimeType: detected, mismatch: false };
  // The container itself was declared and the bytes named a member: a DOCX is a ZIP.
  if (CONTAINER_MEMBERS[want]?.includes(detected)) return { mimeType: detected, mismatch: false };
  return { mimeType: detected, mismatch: true };
}
