import type { RejectionReason, StowageFile } from '@stowage/client';

/** What Stowage's rejection reasons mean to the person who chose the file (API.md section 6). */
const REASONS: Record<string, string> = {
  FILE_TOO_LARGE: 'it is larger than this bucket accepts',
  SIZE_MISMATCH: 'the file changed while it was uploading',
  MIME_TYPE_NOT_ALLOWED: 'its content is a type this bucket does not accept',
  MIME_TYPE_MISMATCH: 'its content is not the type its name says',
  CHECKSUM_MISMATCH: 'it was damaged on the way',
  MALWARE_DETECTED: 'malware was detected in it',
  SCAN_FAILED: 'it could not be scanned for malware',
};

/** The sentence for a file the service settled `rejected`, with its code in brackets. */
export function rejectionMessage(file: StowageFile): string {
  const reason: RejectionReason | 'UNKNOWN' = file.rejectionReason ?? 'UNKNOWN';
  const why = REASONS[reason];
  return `Stowage rejected “${file.originalName}”: ${why ?? 'it was not accepted'} (${reason}).`;
}
