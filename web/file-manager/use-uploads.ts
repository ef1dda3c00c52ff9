import type { Bucket, StowageClient, StowageFile } from '@stowage/client';
import { useCallback, useRef, useState } from 'react';
import { explainPending, explainRejection, explainUploadError } from './messages.js';

/**
 * `uploading` → `checking` (bytes arrived, a checksum or malware scan runs) → `done` or
 * `rejected`; `failed` and `cancelled` end it early; `interrupted` waits for the person to
 * choose `resume` or `startOver` (the same file as an upload a reload or crash cut off).
 */
export type UploadState =
  | 'uploading'
  | 'checking'
  | 'done'
  | 'rejected'
  | 'failed'
  | 'cancelled'
  | 'interrupted';

export interface UploadItem {
  /** Stable for the item's life: a React key and what the actions take. */
  key: number;
  name: string;
  size: number;
  type: string;
  /** Bytes sent so far. */
  loaded: number;
  state: UploadState;
  /** What is happening or went wrong, in words for the person. */
  message: string;
}

export interface UseUploadsOptions {
  client: StowageClient;
  bucketId: string;
  /** The entity the uploaded files are referenced by. */
  entityType: string;
  entityId: string;
  /** The bucket's rules, for messages that say the limit (from `useFileList`); optional. */
  bucket?: Bucket | null;
  /** After an upload became an active file. */
  onUploadComplete?: (file: StowageFile) => void;
  /** Each change worth telling a screen-reader user, in words. */
  onAnnounce?: (message: string) => void;
  /** How often a file still being checked or scanned is asked about. Default 1000 ms. */
  pollIntervalMs?: number;
}

export interface UploadsState {
  /** Every upload since the last `clearFinished`, in the order chosen. */
  uploads: UploadItem[];
  /** Some upload has ended (done, rejected, failed, cancelled): `clearFinished` has work. */
  hasFinished: boolean;
  /** Starts one upload per file, several at once. */
  start: (files: Iterable<File> | ArrayLike<File>) => void;
  cancel: (key: number) => void;
  /** Takes an interrupted upload up where it stopped: only the missing parts are sent. */
  resume: (key: number) => void;
  /** Forgets what an interrupted upload had sent and sends the file again. */
  startOver: (key: number) => void;
  clearFinished: () => void;
}

const ongoing = (state: UploadState) =>
  state === 'uploading' || state === 'interrupted' || state === 'checking';
let nextKey = 1;

/**
 * The uploads behind the FileManager, for apps with their own UI: each file's progress, the
 * wait while it is checked, the service's verdict explained, cancel, and the choice to resume
 * an interrupted upload of the same file.
 */
export function useUploads(options: UseUploadsOptions): UploadsState {
  const { client, bucketId, entityType, entityId } = options;
  const latest = useRef(options);
  latest.current = options;
  const [uploads, setUploads] = useState<UploadItem[]>([]);
  // What the actions need that the person never sees: each upload's abort switch, and the
  // files of interrupted uploads, waiting for the person's choice.
  const controllers = useRef(new Map<number, AbortController>());
  const interrupted = useRef(new Map<number, File>());

  const patch = useCallback(
    (key: number, change: Partial<UploadItem>) =>
      setUploads((list) => list.map((u) => (u.key === key ? { ...u, ...change } : u))),
    [],
  );
  const announce = useCallback((message: string) => latest.current.onAnnounce?.(message), []);

  /**
   * A file whose bytes arrived but that still waits (a background checksum, the malware scan)
   * says so, and is asked about until it is active or rejected.
   */
  const settle = useCallback(
    async (key: number, file: File, uploaded: StowageFile) => {
      let current = uploaded;
      while (current.status === 'pending') {
        const message = explainPending(current);
        patch(key, { state: 'checking', loaded: file.size, message });
        announce(message);
        await new Promise((done) => setTimeout(done, latest.current.pollIntervalMs ?? 1000));
        current = await client.getFile(current.id);
      }
      return current;
    },
    [client, patch, announce],
  );

  const run = useCallback(
    (key: number, file: File, controller = new AbortController()) => {
      controllers.current.set(key, controller);
      client
        .upload(file, {
          bucketId,
          references: [{ entityType, entityId }],
          signal: controller.signal,
          onProgress: (p) => patch(key, { loaded: p.loaded }),
        })
        .then((uploaded) => settle(key, file, uploaded))
        .then((result) => {
          if (result.status === 'active') {
            patch(key, { state: 'done', loaded: file.size, message: 'Uploaded.' });
            announce(`“${file.name}” uploaded.`);
            latest.current.onUploadComplete?.(result);
          } else {
            const message = explainRejection(result, latest.current.bucket ?? null);
            patch(key, { state: 'rejected', message });
            announce(message);
          }
        })
        .catch((e: unknown) => {
          const cancelled = controller.signal.aborted;
          const message = cancelled
            ? `Upload of “${file.name}” cancelled.`
            : explainUploadError(e, file, latest.current.bucket ?? null);
          patch(key, { state: cancelled ? 'cancelled' : 'failed', message });
          announce(message);
        })
        .finally(() => controllers.current.delete(key));
    },
    [client, bucketId, entityType, entityId, patch, settle, announce],
  );

  const start = useCallback(
    (files: Iterable<File> | ArrayLike<File>) => {
      const chosen = Array.from(files);
      if (chosen.length === 0) return;
      announce(`Uploading ${chosen.length} file${chosen.length === 1 ? '' : 's'}.`);
      for (const file of chosen) {
        const key = nextKey++;
        const item: UploadItem = {
          key,
          name: file.name,
          size: file.size,
          type: file.type,
          loaded: 0,
          state: 'uploading',
          message: 'Uploading…',
        };
        setUploads((list) => [...list, item]);
        // The same file as an upload a reload or a crash interrupted: the person chooses.
        client
          .findResumableUpload(file, { bucketId })
          .catch(() => null)
          .then((found) => {
            if (!found) return run(key, file);
            interrupted.current.set(key, file);
            const message = `An earlier upload of “${file.name}” was interrupted. Resume it, or start over?`;
            patch(key, { state: 'interrupted', message });
            announce(message);
          });
      }
    },
    [client, bucketId, run, patch, announce],
  );

  const cancel = useCallback((key: number) => controllers.current.get(key)?.abort(), []);

  const takeUp = useCallback(
    (key: number, startOver: boolean) => {
      const file = interrupted.current.get(key);
      if (!file) return;
      interrupted.current.delete(key);
      patch(key, { state: 'uploading', message: startOver ? 'Uploading…' : 'Resuming…' });
      // Made now, so a Cancel while the old upload is forgotten still counts.
      const controller = new AbortController();
      controllers.current.set(key, controller);
      if (!startOver) return run(key, file, controller);
      client
        .forgetResumableUpload(file, { bucketId })
        .catch(() => undefined)
        .then(() => run(key, file, controller));
    },
    [client, bucketId, run, patch],
  );
  const resume = useCallback((key: number) => takeUp(key, false), [takeUp]);
  const startOver = useCallback((key: number) => takeUp(key, true), [takeUp]);

  const clearFinished = useCallback(() => setUploads((list) => list.filter((u) => ongoing(u.state))), []);

  return {
    uploads,
    hasFinished: uploads.some((u) => !ongoing(u.state)),
    start,
    cancel,
    resume,
    startOver,
    clearFinished,
  };
}
