import { sha256Hex } from './part-hash.js';
import { isExpiredRefusal, type RetryPolicy, type SentBytes, sendChecked, withRetry } from './retry.js';
import type { SendBytes } from './send-bytes.js';
import { StowageApiError } from './stowage-api-error.js';
import type { CompletedPart, PartUrl, PartUrls } from './types.js';

/** What the multipart sender needs of the client. */
export interface PartUrlApi {
  getPartUrls(
    fileId: string,
    body: { partNumbers: number[]; partSha256?: string[] },
    o?: { signal?: AbortSignal },
  ): Promise<PartUrls>;
}

export interface MultipartPlan {
  fileId: string;
  file: Blob;
  partSize: number;
  partCount: number;
  /** The upload verifies every part: each URL is asked for with its part's SHA-256. */
  partChecksums: boolean;
  /** URLs already in hand (from initiate), with when they expire. */
  urls: PartUrl[];
  urlsExpireAt: string | null;
  /** Part SHA-256 already computed (hex), by part number. */
  hashes: Map<number, string>;
  /** Parts storage already holds: part number to ETag. */
  stored: Map<number, string>;
}

export interface MultipartContext {
  send: SendBytes;
  retry: RetryPolicy;
  /** Parts in flight at once. */
  concurrency: number;
  /** How many part URLs one `upload/parts` request asks for. */
  window: number;
  sent: SentBytes;
  report: () => void;
  /** Stops every other part at once. */
  failAll: (error: unknown) => void;
  /** Fresh URLs after an expiry, per part, before the part fails. */
  maxRenewals?: number;
}

interface HeldUrl extends PartUrl {
  expiresAtMs: number | null;
}

/** Each part's exact length: `partSize`, the last one what remains (API.md 13.2). */
export const partRange = (size: number, partSize: number, partNumber: number) => {
  const start = (partNumber - 1) * partSize;
  return { start, end: Math.min(start + partSize, size) };
};

/**
 * Sends every part storage does not hold yet, `concurrency` at once, asking for URLs a window
 * ahead (with each part's SHA-256 when the upload verifies parts) and again for a part whose
 * URL expired. Reads one part at a time from the file: memory does not grow with its size.
 * Answers every part with its ETag, in order.
 */
export async function sendMultipart(
  api: PartUrlApi,
  plan: MultipartPlan,
  ctx: MultipartContext,
): Promise<CompletedPart[]> {
  const { file, partSize } = plan;
  const signal = ctx.retry.signal;
  const maxRenewals = ctx.maxRenewals ?? 3;
  const urls = new Map<number, HeldUrl>();
  const initialExpiry = plan.urlsExpireAt ? Date.parse(plan.urlsExpireAt) : null;
  for (const u of plan.urls) urls.set(u.partNumber, { ...u, expiresAtMs: initialExpiry });
  const fetching = new Map<number, Promise<void>>();
  const done = new Map(plan.stored);
  const queue: number[] = [];
  for (let n = 1; n <= plan.partCount; n++) if (!done.has(n)) queue.push(n);

  const slice = (n: number) => {
    const { start, end } = partRange(file.size, partSize, n);
    return file.slice(start, end);
  };
  const hashOf = async (n: number) => {
    let hex = plan.hashes.get(n);
    if (!hex) {
      hex = await sha256Hex(slice(n));
      plan.hashes.set(n, hex);
    }
    return hex;
  };

  /** Asks for URLs of `numbers` (hashing them first when needed), one request for all. */
  const fetchUrls = (numbers: number[]): Promise<void> => {
    const job = (async () => {
      const partSha256: string[] = [];
      // One part read at a time, so a window of hashes costs one part of memory.
      if (plan.partChecksums) for (const n of numbers) partSha256.push(await hashOf(n));
      const answer = await withRetry(ctx.retry, () =>
        api.getPartUrls(
          plan.fileId,
          { partNumbers: numbers, ...(plan.partChecksums ? { partSha256 } : {}) },
          { signal },
        ),
      );
      const expiresAtMs = Date.parse(answer.expiresAt);
      for (const u of answer.parts) urls.set(u.partNumber, { ...u, expiresAtMs });
    })();
    for (const n of numbers) fetching.set(n, job);
    const settled = job.finally(() => {
      for (const n of numbers) if (fetching.get(n) === job) fetching.delete(n);
    });
    settled.catch(() => undefined); // awaited by whoever needs it; a prefetch may fail quietly
    return settled;
  };

  /** The next parts in line without a URL, starting with `first` when given. */
  const nextWithoutUrl = (first?: number) => {
    const batch = first === undefined ? [] : [first];
    for (const n of queue) {
      if (batch.length >= ctx.window) break;
      if (n !== first && !urls.has(n) && !fetching.has(n)) batch.push(n);
    }
    return batch;
  };

  const urlFor = async (n: number): Promise<HeldUrl> => {
    for (let tries = 0; tries < 3; tries++) {
      const held = urls.get(n);
      if (held) return held;
      const pending = fetching.get(n);
      if (pending) await pending.catch(() => undefined);
      else await fetchUrls(nextWithoutUrl(n));
    }
    const held = urls.get(n);
    if (held) return held;
    throw new StowageApiError({ status: 0, code: 'INTERNAL', message: `No URL was given for part ${n}.` });
  };

  /** Keeps URLs ready for the parts next in line while the current ones are sent. */
  const prefetch = () => {
    const ahead = queue.slice(0, ctx.concurrency);
    if (ahead.some((n) => !urls.has(n) && !fetching.has(n))) {
      const batch = nextWithoutUrl();
      if (batch.length > 0) void fetchUrls(batch);
    }
  };

  const sendPart = async (n: number): Promise<string> => {
    const body = slice(n);
    for (let renewals = 0; ; renewals++) {
      const url = await urlFor(n);
      try {
        const etag = await withRetry(ctx.retry, () =>
          sendChecked(
            ctx.send,
            { method: 'PUT', url: url.url, headers: url.headers, body, signal },
            body.size,
            n,
            ctx.sent,
            ctx.report,
          ),
        );
        // One use per URL: a retry of this part after a crash asks for a new one anyway.
        urls.delete(n);
        if (!etag)
          throw new StowageApiError({
            status: 0,
            code: 'STORAGE_REJECTED',
            message: 'Storage sent no ETag for a part: its CORS rules must expose the ETag header.',
          });
        return etag;
      } catch (error) {
        if (signal.aborted || renewals >= maxRenewals || !isExpiredRefusal(error, url.expiresAtMs))
          throw error;
        // Expired on the way (a slow line, a sleeping laptop): ask again for this part only.
        if (urls.get(n) === url) urls.delete(n);
        // Every other URL of that answer expired with it.
        for (const [m, held] of urls) if (held.expiresAtMs === url.expiresAtMs) urls.delete(m);
      }
    }
  };

  const worker = async () => {
    for (let n = queue.shift(); n !== undefined; n = queue.shift()) {
      signal.throwIfAborted();
      prefetch();
      done.set(n, await sendPart(n));
    }
  };
  const workers = Array.from({ length: Math.max(1, Math.min(ctx.concurrency, queue.length)) }, () =>
    worker().catch((error) => {
      ctx.failAll(error);
      throw error;
    }),
  );
  const results = await Promise.allSettled(workers);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return [...done.entries()].sort((a, b) => a[0] - b[0]).map(([partNumber, etag]) => ({ partNumber, etag }));
}
