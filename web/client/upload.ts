import { fetchSendBytes, type SendBytes, type SendRequest, xhrSendBytes } from './send-bytes.js';
import { StowageApiError } from './stowage-api-error.js';
import type {
  CompletedPart,
  EntityRef,
  InitiatedUpload,
  InitiateUploadRequest,
  StowageFile,
} from './types.js';

export interface UploadProgress {
  /** File bytes sent so far (a retried part starts over). */
  loaded: number;
  total: number;
  /** 0..1 */
  fraction: number;
}

export interface UploadOptions {
  bucketId: string;
  references?: EntityRef[];
  onProgress?: (progress: UploadProgress) => void;
  /** Called once the service has accepted the upload and given the pending file. */
  onInitiated?: (file: StowageFile) => void;
  /** Aborting cancels the bytes in flight, then abandons the pending file server-side. */
  signal?: AbortSignal;
  /** Default: the File's name, else `upload`. */
  filename?: string;
  /** Default: the Blob's type, else `application/octet-stream`. */
  contentType?: string;
  /** Ask for a multipart upload whatever the size (the service picks it above its threshold). */
  multipart?: boolean;
  /** PUT (default) or a presigned POST form, for single-request uploads. */
  uploadMethod?: 'PUT' | 'POST';
  sha256?: string;
  /** Parts in flight at once. Default 4. */
  concurrency?: number;
  /** Attempts per request (part or whole file) before giving up. Default 4. */
  attempts?: number;
  /** First backoff delay, doubled on each retry, with jitter. Default 300 ms. */
  retryDelayMs?: number;
  /** How bytes travel; default XMLHttpRequest in browsers, fetch elsewhere. */
  sendBytes?: SendBytes;
}

/** What `uploadFile` needs of the client (kept narrow so the types do not loop). */
export interface UploadApi {
  initiateUpload(
    bucketId: string,
    body: InitiateUploadRequest,
    o?: { signal?: AbortSignal },
  ): Promise<InitiatedUpload>;
  completeUpload(fileId: string, parts?: CompletedPart[], o?: { signal?: AbortSignal }): Promise<StowageFile>;
  abandonUpload(fileId: string): Promise<void>;
}

const cancelled = (signal: AbortSignal): unknown =>
  signal.reason ?? new DOMException('The upload was cancelled.', 'AbortError');

/**
 * Initiates an upload, sends the bytes as the service instructs (PUT, POST form, or multipart
 * parts in parallel with retry and backoff), completes it and returns the final file, active or
 * rejected with its reason. On cancel or failure the pending file is abandoned, releasing its
 * reserved bytes and any multipart upload.
 */
export async function uploadFile(
  api: UploadApi,
  file: Blob,
  opts: UploadOptions,
  env: { fetch?: typeof fetch } = {},
): Promise<StowageFile> {
  opts.signal?.throwIfAborted();
  const send: SendBytes =
    opts.sendBytes ??
    (env.fetch
      ? fetchSendBytes(env.fetch)
      : typeof XMLHttpRequest !== 'undefined'
        ? xhrSendBytes
        : fetchSendBytes((...a: Parameters<typeof fetch>) => globalThis.fetch(...a)));
  const size = file.size;
  const filename = opts.filename ?? (file as Partial<File>).name ?? 'upload';

  const { file: pending, upload } = await api.initiateUpload(
    opts.bucketId,
    {
      filename,
      contentType: opts.contentType ?? (file.type || 'application/octet-stream'),
      size,
      references: opts.references,
      multipart: opts.multipart,
      uploadMethod: opts.uploadMethod,
      sha256: opts.sha256,
    },
    { signal: opts.signal },
  );
  opts.onInitiated?.(pending);

  // One controller for everything in flight: the caller's signal, or a part that failed for good.
  const inner = new AbortController();
  const onCallerAbort = () => inner.abort(cancelled(opts.signal as AbortSignal));
  opts.signal?.addEventListener('abort', onCallerAbort, { once: true });
  if (opts.signal?.aborted) onCallerAbort();

  const sentByRequest = new Map<number, number>();
  const report = () => {
    let loaded = 0;
    for (const v of sentByRequest.values()) loaded += v;
    loaded = Math.min(loaded, size);
    opts.onProgress?.({ loaded, total: size, fraction: size === 0 ? 1 : loaded / size });
  };
  const retry = {
    attempts: Math.max(1, opts.attempts ?? 4),
    delayMs: opts.retryDelayMs ?? 300,
    signal: inner.signal,
  };

  try {
    report();
    let parts: CompletedPart[] | undefined;
    if (upload.method === 'PUT' || upload.method === 'POST') {
      await withRetry(retry, () => {
        const request: SendRequest =
          upload.method === 'PUT'
            ? { method: 'PUT', url: upload.url, headers: upload.headers, body: file, signal: inner.signal }
            : {
                method: 'POST',
                url: upload.url,
                body: postForm(upload.fields, file, filename),
                signal: inner.signal,
              };
        return sendChecked(send, request, size, 0, sentByRequest, report);
      });
    } else {
      parts = await sendParts(upload, file, {
        send,
        retry,
        concurrency: opts.concurrency ?? 4,
        sentByRequest,
        report,
        failAll: (error) => inner.abort(error),
      });
    }
    inner.signal.throwIfAborted();
    const done = await api.completeUpload(pending.id, parts, { signal: inner.signal });
    sentByRequest.clear();
    sentByRequest.set(0, size);
    report();
    return done;
  } catch (error) {
    // Abandoning is best effort: a file that became active or rejected meanwhile answers 409.
    await api.abandonUpload(pending.id).catch(() => undefined);
    if (opts.signal?.aborted) throw cancelled(opts.signal);
    throw error;
  } finally {
    opts.signal?.removeEventListener('abort', onCallerAbort);
  }
}

/** Every field first, then the file: storage ignores fields after the file. */
function postForm(fields: Record<string, string>, file: Blob, filename: string): FormData {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  form.append('file', file, filename);
  return form;
}

async function sendChecked(
  send: SendBytes,
  request: SendRequest,
  bytes: number,
  key: number,
  sentByRequest: Map<number, number>,
  report: () => void,
): Promise<string | null> {
  sentByRequest.set(key, 0);
  const result = await send({
    ...request,
    onProgress: (loaded, total) => {
      sentByRequest.set(key, total > 0 ? Math.round((loaded / total) * bytes) : 0);
      report();
    },
  });
  if (result.status < 200 || result.status >= 300) {
    sentByRequest.set(key, 0);
    report();
    throw new StowageApiError({
      status: result.status,
      code: 'STORAGE_REJECTED',
      message: `Storage refused the bytes (HTTP ${result.status}).`,
      details: { body: result.text.slice(0, 500) },
    });
  }
  sentByRequest.set(key, bytes);
  report();
  return result.header('etag');
}

async function sendParts(
  upload: Extract<InitiatedUpload['upload'], { method: 'MULTIPART' }>,
  file: Blob,
  ctx: {
    send: SendBytes;
    retry: RetryPolicy;
    concurrency: number;
    sentByRequest: Map<number, number>;
    report: () => void;
    failAll: (error: unknown) => void;
  },
): Promise<CompletedPart[]> {
  const queue = [...upload.parts].sort((a, b) => a.partNumber - b.partNumber);
  const done: CompletedPart[] = [];
  const worker = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      const part = next;
      const start = (part.partNumber - 1) * upload.partSize;
      const body = file.slice(start, Math.min(start + upload.partSize, file.size));
      const etag = await withRetry(ctx.retry, () =>
        sendChecked(
          ctx.send,
          { method: 'PUT', url: part.url, body, signal: ctx.retry.signal },
          body.size,
          part.partNumber,
          ctx.sentByRequest,
          ctx.report,
        ),
      );
      if (!etag)
        throw new StowageApiError({
          status: 0,
          code: 'STORAGE_REJECTED',
          message: 'Storage sent no ETag for a part: its CORS rules must expose the ETag header.',
        });
      done.push({ partNumber: part.partNumber, etag });
    }
  };
  const workers = Array.from({ length: Math.max(1, Math.min(ctx.concurrency, queue.length)) }, () =>
    worker().catch((error) => {
      ctx.failAll(error); // the other parts stop at once
      throw error;
    }),
  );
  const results = await Promise.allSettled(workers);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return done.sort((a, b) => a.partNumber - b.partNumber);
}

interface RetryPolicy {
  attempts: number;
  delayMs: number;
  signal: AbortSignal;
}

/** Network errors, 408, 429 and 5xx are worth another try; anything else is final. */
const retryable = (error: unknown): boolean =>
  error instanceof StowageApiError
    ? error.status === 408 || error.status === 429 || error.status >= 500
    : error instanceof TypeError;

async function withRetry<T>(policy: RetryPolicy, attempt: () => Promise<T>): Promise<T> {
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

const sleep = (ms: number, signal: AbortSignal) =>
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
