/**
 * Quota arithmetic. The store keeps `usedBytes`, `reservedBytes` and `headroom`
 * = (limitBytes ?? 0) − usedBytes − reservedBytes, so "does this upload fit?" is a plain
 * conditional write (`headroom >= n`), race-free under concurrent reservations.
 */
export interface Quota {
  limitBytes: number | null;
  usedBytes: number;
  reservedBytes: number;
  fileCount: number;
}

export const emptyQuota = (): Quota => ({ limitBytes: null, usedBytes: 0, reservedBytes: 0, fileCount: 0 });

export const committedBytes = (q: Quota) => q.usedBytes + q.reservedBytes;

export const headroomOf = (q: Quota) => (q.limitBytes ?? 0) - committedBytes(q);

export const fits = (q: Quota, bytes: number) =>
  q.limitBytes === null || committedBytes(q) + bytes <= q.limitBytes;
