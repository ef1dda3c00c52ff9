import { type MultipartPlan, type PartUrlApi, partRange, sendMultipart } from './multipart-upload.js';
import { canHash, sha256Hex } from './part-hash.js';
import { defaultResumeStore, type ResumeRecord, type ResumeStore, resumeKey } from './resume-store.js';
import { type RetryPolicy, retryable, type SentBytes, sendChecked, withRetry } from './retry.js';
import { fetchSendBytes, type SendBytes, type SendRequest, xhrSendBytes } from './send-bytes.js';
import { StowageApiError } from './stowage-api-error.js';
import type {
  CompletedPart,
  EntityRef,
  InitiatedUpload,
  InitiateUploadRequest,
  StoredParts,
  StowageFile,
} from './types.js';

export interface UploadProgress {
  /** File bytes sent so far (a retried part starts over; a resumed upload starts at what storage holds). */
  loaded: number;
  total: number;
  /** 0..1 */
  fraction: number;
}

/** A multipart upload taken up again: how much storage already held. */
export interface ResumedUpload {
  fileId: string;
  partCount: number;
  /** Parts storage held, not sent again. */
  partsStored: number;
  bytesStored: number;
}

export interface UploadOptions {
  bucketId: string;
  references?: EntityRef[];
  /** Called once per new value of `loaded`. */
  onProgress?: (progress: UploadProgress) => void;
  /** Called once the service has accepted the upload (or a resumed one was found) with the pending file. */
  onInitiated?: (file: StowageFile) => void;
  /** Called when an interrupted upload of the same file is taken up again, before its missing parts go. */
  onResumed?: (resumed: ResumedUpload) => void;
  /**
   * Aborting cancels the bytes in flight, then abandons the pending file server-side (and
   * forgets its resume record). A cancel while the upload is being initiated waits for that
   * answer, then abandons the file it names, so no quota stays reserved.
   */
  signal?: AbortSignal;
  /** Default: the File's name, else `upload`. */
  filename?: string;
  /** Default: the File's `lastModified`, else 0 (Node: give the file's `mtimeMs`). Part of the resume fingerprint. */
  lastModified?: number;
  /** Default: the Blob's type, else `application/octet-stream`. */
  contentType?: string;
  /**
   * Ask for a multipart upload whatever the size. Default: above `multipartThreshold`
   * (the service may still choose multipart for smaller files above its own threshold).
   */
  multipart?: boolean;
  /** Default 100 MiB, the service's default threshold. */
  multipartThreshold?: number;
  /** PUT (default) or a presigned POST form, for single-request uploads. */
  uploadMethod?: 'PUT' | 'POST';
  sha256?: string;
  /**
   * SHA-256 of every part, signed into its URL so storage refuses other bytes (default true
   * where `crypto.subtle` exists: browsers in a secure context, Node).
   */
  partChecksums?: boolean;
  /** Parts in flight at once. Default 4. */
  concurrency?: number;
  /** Part URLs asked for per request, ahead of the parts in flight. Default twice `concurrency`. */
  partUrlWindow?: number;
  /**
   * Where multipart uploads are remembered, so the same file given again after a reload or a
   * crash sends only the parts storage lacks. Default `localStorage` in browsers, none in Node
   * (give any `{ get, set, delete }`, e.g. a `Map`); `false` turns resume off.
   */
  resume?: ResumeStore | false;
  /** The service's minimum part size (FILESTORE_MIN_PART_SIZE), to hash the first parts before initiating. Default 8 MiB. */
  minPartSize?: number;
  /** Attempts per request (part or whole file) before giving up. Default 4. */
  attempts?: number;
  /** First backoff delay, doubled on each retry, with jitter. Default 300 ms. */
  retryDelayMs?: number;
  /** How bytes travel; default XMLHttpRequest in browsers, fetch elsewhere. */
  sendBytes?: SendBytes;
}

/** What `uploadFile` needs of the client (kept narrow so the types do not loop). */
export interface UploadApi extends PartUrlApi {
  initiateUpload(
    bucketId: string,
    body: InitiateUploadRequest,
    o?: { signal?: AbortSignal },
  ): Promise<InitiatedUpload>;
  completeUpload(fileId: string, parts?: CompletedPart[], o?: { signal?: AbortSignal }): Promise<StowageFile>;
  abandonUpload(fileId: string): Promise<void>;
  getUploadProgress(fileId: string, o?: { signal?: AbortSignal }): Promise<StoredParts>;
  getFile(fileId: string, o?: { signal?: AbortSignal }): Promise<StowageFile>;
}

const MiB = 1024 * 1024;
const MAX_PARTS = 10_000;

const cancelled = (signal: AbortSignal): unknown =>
  signal.reason ?? new DOMException('The upload was cancelled.', 'AbortError');

/** The part size the service picks for `size` (shared/services/upload-service.ts `partSizeFor`). */
export const expectedPartSize = (size: number, minPartSize = 8 * MiB): number =>
  Math.max(minPartSize, Math.ceil(Math.ceil(size / MAX_PARTS) / MiB) * MiB);

const fileName = (file: Blob, opts: { filename?: string }) =>
  opts.filename ?? (file as Partial<File>).name ?? 'upload';
const fileDate = (file: Blob, opts: { lastModified?: number }) =>
  opts.lastModified ?? (file as Partial<File>).lastModified ?? 0;

function storeOf(opts: { resume?: ResumeStore | false }): ResumeStore | null {
  if (opts.resume === false) return null;
  return opts.resume ?? defaultResumeStore();
}

/**
 * The interrupted multipart upload of this very file in this bucket, if one is remembered: same
 * name, size, date and first part's bytes. The FileManager asks before offering "Resume".
 */
export async function findResumableUpload(
  file: Blob,
  opts: Pick<UploadOptions, 'bucketId' | 'filename' | 'lastModified' | 'resume'>,
): Promise<ResumeRecord | null> {
  const store = storeOf(opts);
  if (!store) return null;
  const key = resumeKey(opts.bucketId, fileName(file, opts), file.size, fileDate(file, opts));
  const record = await store.get(key);
  if (!record || record.size !== file.size || record.bucketId !== opts.bucketId) return null;
  if (!canHash()) return null;
  const first = await sha256Hex(file.slice(0, Math.min(file.size, record.partSize)));
  return first === record.firstPartSha256 ? record : null;
}

/**
 * Forgets a remembered upload of this file and abandons it server-side ("Start over").
 * Best effort: an upload already gone is fine.
 */
export async function forgetResumableUpload(
  api: Pick<UploadApi, 'abandonUpload'>,
  file: Blob,
  opts: Pick<UploadOptions, 'bucketId' | 'filename' | 'lastModified' | 'resume'>,
): Promise<void> {
  const store = storeOf(opts);
  if (!store) return;
  const key = resumeKey(opts.bucketId, fileName(file, opts), file.size, fileDate(file, opts));
  const record = await store.get(key);
  if (record) await api.abandonUpload(record.fileId).catch(() => undefined);
  await store.delete(key);
}

/**
 * Initiates an upload (or takes up an interrupted multipart upload of the same file), sends the
 * bytes as the service instructs (PUT, POST form, or parts in parallel with URLs asked for as it
 * goes, retry and backoff), completes it and returns the final file, active or rejected with its
 * reason. On cancel the pending file is abandoned; on another failure too, except a multipart
 * upload that can be resumed after a network failure (its record stays, so giving the same file
 * again sends only what is missing).
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
  const filename = fileName(file, opts);
  const lastModified = fileDate(file, opts);
  const concurrency = Math.max(1, opts.concurrency ?? 4);
  const minPartSize = opts.minPartSize ?? 8 * MiB;
  const checksums = opts.partChecksums !== false && canHash();
  const store = size >= minPartSize ? storeOf(opts) : null;
  const key = store ? resumeKey(opts.bucketId, filename, size, lastModified) : '';

  // One controller for everything in flight: the caller's signal, or a part that failed for good.
  const inner = new AbortController();
  const onCallerAbort = () => inner.abort(cancelled(opts.signal as AbortSignal));
  opts.signal?.addEventListener('abort', onCallerAbort, { once: true });
  if (opts.signal?.aborted) onCallerAbort();

  const sent: SentBytes = new Map();
  let lastLoaded = -1;
  const report = () => {
    let loaded = 0;
    for (const v of sent.values()) loaded += v;
    loaded = Math.min(loaded, size);
    if (loaded === lastLoaded) return;
    lastLoaded = loaded;
    opts.onProgress?.({ loaded, total: size, fraction: size === 0 ? 1 : loaded / size });
  };
  const retry: RetryPolicy = {
    attempts: Math.max(1, opts.attempts ?? 4),
    delayMs: opts.retryDelayMs ?? 300,
    signal: inner.signal,
  };

  let pendingId: string | null = null;
  let resumable = false;
  try {
    const resumed = store ? await resumeFrom(api, store, key, file, opts, checksums, inner.signal) : null;
    let plan: MultipartPlan | null = null;
    let single: InitiatedUpload['upload'] | null = null;
    if (resumed) {
      pendingId = resumed.fileId;
      plan = resumed.plan;
      resumable = true;
      opts.onInitiated?.(resumed.file);
      opts.onResumed?.(resumed.info);
    } else {
      const multipart = opts.multipart ?? size > (opts.multipartThreshold ?? 100 * MiB);
      // The first parts' SHA-256 go with initiate, hashed at the part size the service will pick.
      const guessed = expectedPartSize(size, minPartSize);
      const hashes = new Map<number, string>();
      if (multipart && checksums && size >= minPartSize) {
        const count = Math.min(concurrency, Math.ceil(size / guessed));
        for (let n = 1; n <= count; n++) {
          const { start, end } = partRange(size, guessed, n);
          hashes.set(n, await sha256Hex(file.slice(start, end)));
        }
      }
      const withSums = multipart && checksums && size >= minPartSize;
      inner.signal.throwIfAborted();
      // Not aborted by a cancel: once sent, the service may have reserved the quota, and only its
      // answer names the file to release. A cancel meanwhile abandons it below once it answers.
      const { file: pending, upload } = await api.initiateUpload(opts.bucketId, {
        filename,
        contentType: opts.contentType ?? (file.type || 'application/octet-stream'),
        size,
        references: opts.references,
        multipart: opts.multipart ?? (multipart || undefined),
        uploadMethod: opts.uploadMethod,
        sha256: opts.sha256,
        ...(withSums ? { partSha256: [...hashes.values()] } : {}),
      });
      pendingId = pending.id;
      inner.signal.throwIfAborted();
      opts.onInitiated?.(pending);
      if (upload.method === 'MULTIPART') {
        const partChecksums = withSums;
        // Another part size than guessed: those hashes, and the URLs signed with them, are of no use.
        const rightGuess = upload.partSize === guessed;
        plan = {
          fileId: pending.id,
          file,
          partSize: upload.partSize,
          partCount: upload.partCount,
          partChecksums,
          urls: rightGuess || !partChecksums ? upload.parts : [],
          urlsExpireAt: upload.expiresAt,
          hashes: rightGuess ? hashes : new Map(),
          stored: new Map(),
        };
        if (store) {
          const firstPartSha256 =
            plan.hashes.get(1) ?? (await sha256Hex(file.slice(0, Math.min(size, upload.partSize))));
          plan.hashes.set(1, firstPartSha256);
          await store.set(key, {
            fileId: pending.id,
            uploadId: upload.uploadId,
            partSize: upload.partSize,
            size,
            name: filename,
            lastModified,
            bucketId: opts.bucketId,
            firstPartSha256,
            partChecksums,
          });
          resumable = true;
        }
      } else single = upload;
    }

    report();
    let parts: CompletedPart[] | undefined;
    if (plan) {
      for (const [n] of plan.stored) sent.set(n, partLength(size, plan.partSize, n));
      report();
      parts = await sendMultipart(api, plan, {
        send,
        retry,
        concurrency,
        window: Math.max(concurrency, opts.partUrlWindow ?? 2 * concurrency),
        sent,
        report,
        failAll: (error) => inner.abort(error),
      });
    } else if (single) {
      const upload = single;
      await withRetry(retry, () => {
        const request: SendRequest =
          upload.method === 'PUT'
            ? { method: 'PUT', url: upload.url, headers: upload.headers, body: file, signal: inner.signal }
            : upload.method === 'POST'
              ? {
                  method: 'POST',
                  url: upload.url,
                  body: postForm(upload.fields, file, filename),
                  signal: inner.signal,
                }
              : (undefined as never);
        return sendChecked(send, request, size, 0, sent, report);
      });
    }
    inner.signal.throwIfAborted();
    const done = await api.completeUpload(pendingId as string, parts, { signal: inner.signal });
    if (store && resumable) await store.delete(key);
    sent.clear();
    sent.set(0, size);
    report();
    return done;
  } catch (error) {
    const callerCancelled = opts.signal?.aborted === true;
    // A lost connection or a server hiccup on a remembered multipart upload: keep it to resume.
    const keep = !callerCancelled && resumable && pendingId !== null && worthResuming(error);
    if (!keep) {
      // Abandoning is best effort: a file that became active or rejected meanwhile answers 409.
      if (pendingId) await api.abandonUpload(pendingId).catch(() => undefined);
      if (store && resumable) await store.delete(key);
    }
    if (callerCancelled) throw cancelled(opts.signal as AbortSignal);
    throw error;
  } finally {
    opts.signal?.removeEventListener('abort', onCallerAbort);
  }
}

const partLength = (size: number, partSize: number, n: number) => {
  const { start, end } = partRange(size, partSize, n);
  return end - start;
};

/** Failures a later attempt with the same file may get past: the network, 408, 429, 5xx, an expired URL. */
const worthResuming = (error: unknown): boolean =>
  retryable(error) ||
  (error instanceof StowageApiError && error.status === 0 && error.code === 'NETWORK_ERROR') ||
  (error instanceof StowageApiError && error.code === 'STORAGE_REJECTED' && error.status === 403);

/**
 * Takes up the remembered upload of this file: what storage holds (parts of the wrong length
 * count as missing), the rest to send. A record whose file is gone (404) or no longer a pending
 * multipart upload (409), or of other bytes, is forgotten.
 */
async function resumeFrom(
  api: UploadApi,
  store: ResumeStore,
  key: string,
  file: Blob,
  opts: UploadOptions,
  checksums: boolean,
  signal: AbortSignal,
): Promise<{ fileId: string; file: StowageFile; plan: MultipartPlan; info: ResumedUpload } | null> {
  const record = await store.get(key);
  if (!record) return null;
  const forget = async () => {
    await store.delete(key);
    return null;
  };
  if (record.size !== file.size || record.bucketId !== opts.bucketId) return forget();
  if (record.partChecksums && !checksums) return null; // cannot hash here; leave it for a browser that can
  const first = await sha256Hex(file.slice(0, Math.min(file.size, record.partSize)));
  if (first !== record.firstPartSha256) return forget();
  let state: StoredParts;
  let pending: StowageFile;
  try {
    state = await api.getUploadProgress(record.fileId, { signal });
    pending = await api.getFile(record.fileId, { signal });
  } catch (error) {
    if (error instanceof StowageApiError && (error.status === 404 || error.status === 409)) return forget();
    throw error;
  }
  if (state.uploadId !== record.uploadId || state.partSize !== record.partSize) return forget();
  const stored = new Map<number, string>();
  let bytesStored = 0;
  for (const part of state.uploaded) {
    const expected = partLength(file.size, state.partSize, part.partNumber);
    if (part.size !== expected) continue; // sent again, which replaces it
    stored.set(part.partNumber, part.etag);
    bytesStored += part.size;
  }
  return {
    fileId: record.fileId,
    file: pending,
    plan: {
      fileId: record.fileId,
      file,
      partSize: state.partSize,
      partCount: state.partCount,
      partChecksums: record.partChecksums,
      urls: [],
      urlsExpireAt: null,
      hashes: new Map([[1, first]]),
      stored,
    },
    info: { fileId: record.fileId, partCount: state.partCount, partsStored: stored.size, bytesStored },
  };
}

/** Every field first, then the file: storage ignores fields after the file. */
function postForm(fields: Record<string, string>, file: Blob, filename: string): FormData {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  form.append('file', file, filename);
  return form;
}
