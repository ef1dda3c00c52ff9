import { type Bucket, isStowageApiError, type StowageFile } from '@stowage/client';

const UNITS = ['bytes', 'KB', 'MB', 'GB', 'TB'];

/** 1536 → "1.5 KB" (binary multiples, as storage limits are set). */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  if (unit === 0) return bytes === 1 ? '1 byte' : `${bytes} bytes`;
  return `${value >= 10 ? Math.round(value) : Math.round(value * 10) / 10} ${UNITS[unit]}`;
}

const FRIENDLY_TYPES: Record<string, string> = {
  'application/pdf': 'PDF',
  'image/png': 'PNG',
  'image/jpeg': 'JPEG',
  'image/gif': 'GIF',
  'image/webp': 'WebP',
  'image/*': 'images',
  'text/plain': 'plain text',
  'text/csv': 'CSV',
  'text/*': 'text files',
  'application/zip': 'ZIP',
  'video/*': 'videos',
  'audio/*': 'audio',
};

/** ["application/pdf", "image/*"] → "PDF or images". */
export function describeTypes(types: string[]): string {
  const names = types.map((t) => FRIENDLY_TYPES[t.toLowerCase()] ?? t);
  if (names.length <= 1) return names.join('');
  return `${names.slice(0, -1).join(', ')} or ${names.at(-1)}`;
}

export const describeType = (mime: string) => FRIENDLY_TYPES[mime.toLowerCase()] ?? (mime || 'unknown type');

/** What the bucket accepts, in a line: "Accepts PDF, PNG or JPEG, up to 10 MB each." */
export function describeRules(bucket: Bucket): string {
  const types = bucket.allowedMimeTypes ? describeTypes(bucket.allowedMimeTypes) : 'any type of file';
  return `Accepts ${types}, up to ${formatBytes(bucket.maxFileSize)} each.`;
}

interface Subject {
  name: string;
  size: number;
  type: string;
}

/** Why an upload failed, in words for the person who tried it. */
export function explainUploadError(error: unknown, file: Subject, bucket: Bucket | null): string {
  const name = `“${file.name}”`;
  if (!isStowageApiError(error)) {
    if (error instanceof DOMException && error.name === 'AbortError') return `Upload of ${name} cancelled.`;
    return `${name} could not be uploaded: the connection failed. Check your network and try again.`;
  }
  switch (error.code) {
    case 'FILE_TOO_LARGE':
      return `${name} is too large (${formatBytes(file.size)}). Files here can be at most ${
        bucket ? formatBytes(bucket.maxFileSize) : 'the bucket limit'
      }.`;
    case 'MIME_TYPE_NOT_ALLOWED':
      return `${name} is a type of file not accepted here (${describeType(file.type || 'unknown')}).${
        bucket?.allowedMimeTypes ? ` Allowed: ${describeTypes(bucket.allowedMimeTypes)}.` : ''
      }`;
    case 'QUOTA_EXCEEDED':
      return `There is no room left for ${name} (${formatBytes(file.size)}): your organisation's storage is full. Delete some files or ask an administrator for more space.`;
    case 'FORBIDDEN':
      return `You are not allowed to upload ${name} here.`;
    case 'UNAUTHENTICATED':
      return 'Your session has expired. Sign in again to upload.';
    case 'VALIDATION_FAILED':
      return `${name} cannot be uploaded: ${error.message}`;
    case 'NOT_FOUND':
      return 'This storage location no longer exists.';
    case 'RATE_LIMITED':
      return 'Too many uploads at once. Wait a moment and try again.';
    case 'NETWORK_ERROR':
    case 'STORAGE_REJECTED':
      return `${name} could not be uploaded: the connection to storage failed. Try again.`;
    default:
      return `${name} could not be uploaded (${error.message}).`;
  }
}

/** Why the service rejected what arrived. */
export function explainRejection(file: StowageFile, bucket: Bucket | null): string {
  const name = `“${file.originalName}”`;
  switch (file.rejectionReason) {
    case 'FILE_TOO_LARGE':
      return `${name} was rejected: it is larger than the ${bucket ? formatBytes(bucket.maxFileSize) : ''} limit.`;
    case 'SIZE_MISMATCH':
      return `${name} was rejected: the file changed while it was uploading. Try again.`;
    case 'MIME_TYPE_NOT_ALLOWED':
      return `${name} was rejected: its content is a type not accepted here.${
        bucket?.allowedMimeTypes ? ` Allowed: ${describeTypes(bucket.allowedMimeTypes)}.` : ''
      }`;
    case 'MIME_TYPE_MISMATCH':
      return `${name} was rejected: its content is not really ${describeType(file.mimeType)}. The file may be damaged or renamed.`;
    case 'CHECKSUM_MISMATCH':
      return `${name} was rejected: it was damaged on the way. Try again.`;
    case 'MALWARE_DETECTED':
      return `${name} was rejected: malware detected. It has been set aside and cannot be downloaded.`;
    case 'SCAN_FAILED':
      return `${name} was rejected: it could not be scanned for malware, so it cannot be accepted.`;
    default:
      return `${name} was rejected.`;
  }
}

/** What a file that arrived is still waiting for (API.md 13.2, 13.6). */
export function explainPending(file: StowageFile): string {
  const name = `“${file.originalName}”`;
  if (file.scan === 'pending') return `Scanning ${name} for malware…`;
  return `Checking ${name}…`;
}

/** Any other failed action (list, delete, restore, download). */
export function explainError(error: unknown, action: string): string {
  if (isStowageApiError(error)) {
    if (error.code === 'FORBIDDEN') return `You are not allowed to ${action}.`;
    if (error.code === 'UNAUTHENTICATED') return `Your session has expired. Sign in again to ${action}.`;
    if (error.code === 'NOT_FOUND') return `Could not ${action}: the file no longer exists.`;
    if (error.code === 'CONFLICT') return `Could not ${action} right now: ${error.message}`;
    return `Could not ${action}: ${error.message}`;
  }
  return `Could not ${action}: the service could not be reached.`;
}
