/**
 * The object tag that quarantines a rejected upload in place: the uploads bucket's policy denies
 * every read of an object carrying it (infra/constructs/stowage-storage.ts), so an object of any
 * size is quarantined without a copy (CopyObject stops at 5 GB).
 */
export const QUARANTINE_TAG = { key: 'stowage-quarantine', value: 'true' } as const;
