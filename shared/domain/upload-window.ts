/**
 * How long a pending upload may take. Upload URLs live minutes (long enough for a browser to
 * start sending); the record lives until its bytes could have arrived over a slow line, so the
 * sweep never abandons an upload that is still on its way.
 */

/** The slowest line the window allows for: 1 Mbit/s. */
export const SLOW_LINE_BYTES_PER_SECOND = 125_000;
/** Storage aborts incomplete multipart uploads after a day: no window may outlast that. */
export const MAX_UPLOAD_WINDOW_SECONDS = 23 * 3600;

/** When the sweep may abandon an upload that was initiated at `now`. */
export function uploadDeadline(now: Date, urlTtlSeconds: number, size: number): Date {
  const transferSeconds = Math.ceil(size / SLOW_LINE_BYTES_PER_SECOND);
  const window = Math.min(urlTtlSeconds + transferSeconds, MAX_UPLOAD_WINDOW_SECONDS);
  return new Date(now.getTime() + Math.max(window, urlTtlSeconds) * 1000);
}

/**
 * A later deadline for a multipart upload whose parts still arrive: `remainingBytes` more at the
 * slow line's pace after fresh URLs, never past the ceiling counted from its creation.
 */
export function extendedDeadline(
  createdAt: Date,
  now: Date,
  urlTtlSeconds: number,
  remainingBytes: number,
): Date {
  const transferSeconds = Math.ceil(remainingBytes / SLOW_LINE_BYTES_PER_SECOND);
  const wanted = now.getTime() + (urlTtlSeconds + transferSeconds) * 1000;
  return new Date(Math.min(wanted, createdAt.getTime() + MAX_UPLOAD_WINDOW_SECONDS * 1000));
}

/** Each part's exact length: `partSize`, the last one what remains (API.md 13.2). */
export function partLength(size: number, partSize: number, partNumber: number): number {
  return Math.min(partSize, size - (partNumber - 1) * partSize);
}
