import type { SendBytes, SendRequest } from './send-bytes.js';
import { StowageApiError } from './stowage-api-error.js';

export interface RetryPolicy {
  attempts: number;
  delayMs: number;
  signal: AbortSignal;
}

/** Network errors, 408, 429 and 5xx are worth another try; anything else is final. */
export const retryable = (error: unknown): boolean =>
  error instanceof StowageApiError
    ? error.status === 408 || error.status === 429 || error.status >= 500
    : error instanceof TypeError;

export async function withRetry<T>(policy: RetryPolicy, attempt: () => Promise<T>): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (error) {
      if (policy.signal.aborted || n >= policy.attempts || !retryable(error)) throw error;
      const delay = policy.delayMs * 2 ** (n - 1) * (0.75 + Math.random() * 0.5);
      await sleep(delay, policy.signal);
    }
  }
}

export const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });

/** Progress of every request in flight, by key (0 for a single request, else the part number). */
export type SentBytes = Map<number, number>;

/**
 * Sends one request and throws `STORAGE_REJECTED` with the storage's status and the start of its
 * answer for anything but 2xx; answers the ETag.
 */
export async function sendChecked(
  send: SendBytes,
  request: SendRequest,
  bytes: number,
  key: number,
  sent: SentBytes,
  report: () => void,
): Promise<string | null> {
  sent.set(key, 0);
  const result = await send({
    ...request,
    onProgress: (loaded, total) => {
      sent.set(key, total > 0 ? Math.round((loaded / total) * bytes) : 0);
      report();
    },
  }).catch((error: unknown) => {
    sent.set(key, 0);
    report();
    throw error;
  });
  if (result.status < 200 || result.status >= 300) {
    sent.set(key, 0);
    report();
    throw new StowageApiError({
      status: result.status,
      code: 'STORAGE_REJECTED',
      message: `Storage refused the bytes (HTTP ${result.status}).`,
      details: { body: result.text.slice(0, 500) },
    });
  }
  sent.set(key, bytes);
  report();
  return result.header('etag');
}

/**
 * Storage refused a URL because its signature expired (S3 and the embedded store: 403
 * `AccessDenied` "Request has expired"). Where the answer cannot be read (a browser without CORS
 * on errors), a 403 after the URL's own expiry counts too.
 */
export function isExpiredRefusal(error: unknown, urlExpiresAtMs: number | null): boolean {
  if (!(error instanceof StowageApiError) || error.code !== 'STORAGE_REJECTED' || error.status !== 403)
    return false;
  const body = String((error.details as { body?: unknown } | undefined)?.body ?? '');
  if (/expired/i.test(body)) return true;
  return body === '' && urlExpiresAtMs !== null && Date.now() >= urlExpiresAtMs;
}
