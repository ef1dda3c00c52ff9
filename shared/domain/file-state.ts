import { conflict } from './errors.js';

export const FILE_STATUSES = ['pending', 'active', 'rejected', 'deleted'] as const;
export type FileStatus = (typeof FILE_STATUSES)[number];

export type RejectionReason =
  | 'FILE_TOO_LARGE'
  | 'SIZE_MISMATCH'
  | 'MIME_TYPE_NOT_ALLOWED'
  | 'MIME_TYPE_MISMATCH'
  | 'CHECKSUM_MISMATCH'
  /** The malware scanner found something (API.md 13.6). */
  | 'MALWARE_DETECTED'
  /** The scanner answered that it cannot judge this object (too big, unsupported, denied). */
  | 'SCAN_FAILED';

/**
 * The file state machine: pending → active | rejected; active → deleted → active (restore);
 * deleted → gone (purge); pending → gone (abandon); rejected → gone (delete).
 */
const TRANSITIONS: Record<FileStatus, readonly FileStatus[]> = {
  pending: ['active', 'rejected'],
  active: ['deleted'],
  deleted: ['active'],
  rejected: [],
};

export const canTransition = (from: FileStatus, to: FileStatus): boolean => TRANSITIONS[from].includes(to);

export function assertTransition(from: FileStatus, to: FileStatus, action: string): void {
  if (!canTransition(from, to)) throw conflict(`Cannot ${action} a file that is ${from}.`, { status: from });
}

/** Where a status lives in the listing indexes. */
export const partitionOf = (status: FileStatus) => (status === 'deleted' ? 'deleted' : 'live');
