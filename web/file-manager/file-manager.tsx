import { type DragEvent, useCallback, useEffect, useId, useMemo, useRef, useState } from 'react';
import { createStowageClient } from '../client/stowage-client.js';
import type { Bucket, StowageFile } from '../client/types.js';
import { RenameForm, ShareLinkForm } from './file-actions.js';
import {
  describeRules,
  describeType,
  explainError,
  explainPending,
  explainRejection,
  explainUploadError,
  formatBytes,
} from './messages.js';
import { Thumbnail } from './thumbnail.js';

export interface FileManagerProps {
  bucketId: string;
  entityType: string;
  entityId: string;
  /** Shown only; who the user is comes from the token. */
  userId: string;
  /** A valid bearer token, asked for before each call. */
  getToken: () => string | Promise<string>;
  /** The API's origin; default the page's own. */
  apiUrl?: string;
  /** Files per page of the list. Default 20. */
  pageSize?: number;
  /** After an upload became an active file. */
  onUploadComplete?: (file: StowageFile) => void;
  onDeleteComplete?: (fileId: string) => void;
}

type UploadState = 'uploading' | 'checking' | 'done' | 'rejected' | 'failed' | 'cancelled' | 'interrupted';

interface UploadItem {
  key: number;
  name: string;
  size: number;
  type: string;
  loaded: number;
  state: UploadState;
  message: string;
  controller: AbortController;
  /** For an interrupted upload of the same file: what "Resume" and "Start over" act on. */
  file?: File;
}

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
// The confirm button takes focus when the person asked to delete, so Enter confirms.
const focusOnMount = (el: HTMLButtonElement | null) => el?.focus();
const byNewest = (a: StowageFile, b: StowageFile) => b.createdAt.localeCompare(a.createdAt);
let nextKey = 1;
/** How often a file that is still being checked or scanned is asked about. */
const PENDING_POLL_MS = 1000;

/**
 * The files of one entity in one bucket: list with previews, uploads by drag and drop or the
 * picker (several at once, each with its progress), delete with confirmation and undo, download.
 */
export function FileManager(props: FileManagerProps) {
  const { bucketId, entityType, entityId, userId, pageSize = 20 } = props;
  const tokenRef = useRef(props.getToken);
  tokenRef.current = props.getToken;
  const callbacks = useRef(props);
  callbacks.current = props;
  const apiUrl = props.apiUrl ?? globalThis.location?.origin ?? '';
  const client = useMemo(
    () => createStowageClient({ baseUrl: apiUrl, getToken: () => tokenRef.current() }),
    [apiUrl],
  );

  const [bucket, setBucket] = useState<Bucket | null>(null);
  const [files, setFiles] = useState<StowageFile[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [uploads, setUploads] = useState<UploadItem[]>([]);
  const [confirming, setConfirming] = useState<string | null>(null);
  const [deleted, setDeleted] = useState<StowageFile[]>([]);
  /** The row whose rename or share form is open. */
  const [acting, setActing] = useState<{ fileId: string; action: 'rename' | 'share' } | null>(null);
  const [announcement, setAnnouncement] = useState('');
  const [dragging, setDragging] = useState(false);
  const inputRef = useRef<HTMLInputElement>(null);
  const ids = { rules: useId(), title: useId(), input: useId() };

  const entity = useMemo(() => ({ entityType, entityId }), [entityType, entityId]);

  useEffect(() => {
    const controller = new AbortController();
    setLoading(true);
    setError(null);
    setFiles([]);
    setDeleted([]);
    const signal = controller.signal;
    Promise.all([
      client.getBucket(bucketId, { signal }),
      client.listFiles({ bucketId, ...entity, status: 'active', limit: pageSize }, { signal }),
    ])
      .then(([b, page]) => {
        setBucket(b);
        setFiles(page.items);
        setCursor(page.nextCursor);
      })
      .catch((e: unknown) => {
        if (!signal.aborted) setError(explainError(e, 'load the files'));
      })
      .finally(() => {
        if (!signal.aborted) setLoading(false);
      });
    return () => controller.abort();
  }, [client, bucketId, entity, pageSize]);

  const loadMore = async () => {
    if (!cursor) return;
    setLoading(true);
    try {
      const page = await client.listFiles({ bucketId, ...entity, status: 'active', limit: pageSize, cursor });
      setFiles((current) => [...current, ...page.items.filter((f) => !current.some((c) => c.id === f.id))]);
      setCursor(page.nextCursor);
    } catch (e) {
      setError(explainError(e, 'load more files'));
    } finally {
      setLoading(false);
    }
  };

  const patchUpload = useCallback(
    (key: number, patch: Partial<UploadItem>) =>
      setUploads((list) => list.map((u) => (u.key === key ? { ...u, ...patch } : u))),
    [],
  );

  const runUpload = (item: UploadItem, file: File) => {
    client
      .upload(file, {
        bucketId,
        references: [entity],
        signal: item.controller.signal,
        onProgress: (p) => patchUpload(item.key, { loaded: p.loaded }),
      })
      .then((uploaded) => settleUpload(item, file, uploaded))
      .then((result) => {
        if (result.status === 'active') {
          patchUpload(item.key, { state: 'done', loaded: file.size, message: 'Uploaded.' });
          setAnnouncement(`“${file.name}” uploaded.`);
          setFiles((list) => [result, ...list.filter((f) => f.id !== result.id)].sort(byNewest));
          callbacks.current.onUploadComplete?.(result);
        } else {
          const message = explainRejection(result, bucket);
          patchUpload(item.key, { state: 'rejected', message });
          setAnnouncement(message);
        }
      })
      .catch((e: unknown) => {
        const cancelled = item.controller.signal.aborted;
        const message = cancelled
          ? `Upload of “${file.name}” cancelled.`
          : explainUploadError(e, file, bucket);
        patchUpload(item.key, { state: cancelled ? 'cancelled' : 'failed', message });
        setAnnouncement(message);
      });
  };

  /**
   * A file whose bytes arrived but that still waits (a background checksum, the malware scan)
   * says so, and is asked about until it is active or rejected.
   */
  const settleUpload = async (item: UploadItem, file: File, uploaded: StowageFile) => {
    let current = uploaded;
    while (current.status === 'pending') {
      const message = explainPending(current);
      patchUpload(item.key, { state: 'checking', loaded: file.size, message });
      setAnnouncement(message);
      await new Promise((done) => setTimeout(done, PENDING_POLL_MS));
      current = await client.getFile(current.id);
    }
    return current;
  };

  const startUploads = (chosen: File[]) => {
    if (chosen.length === 0) return;
    setAnnouncement(`Uploading ${chosen.length} file${chosen.length === 1 ? '' : 's'}.`);
    for (const file of chosen) {
      const item: UploadItem = {
        key: nextKey++,
        name: file.name,
        size: file.size,
        type: file.type,
        loaded: 0,
        state: 'uploading',
        message: 'Uploading…',
        controller: new AbortController(),
      };
      setUploads((list) => [...list, item]);
      // The same file as an upload a reload or a crash interrupted: the person chooses.
      client
        .findResumableUpload(file, { bucketId })
        .catch(() => null)
        .then((found) => {
          if (!found) return runUpload(item, file);
          const message = `An earlier upload of “${file.name}” was interrupted. Resume it, or start over?`;
          patchUpload(item.key, { state: 'interrupted', message, file });
          setAnnouncement(message);
        });
    }
  };

  const resume = (item: UploadItem, startOver: boolean) => {
    const file = item.file;
    if (!file) return;
    const fresh = { ...item, controller: new AbortController(), file: undefined };
    patchUpload(item.key, {
      state: 'uploading',
      message: startOver ? 'Uploading…' : 'Resuming…',
      controller: fresh.controller,
      file: undefined,
    });
    if (!startOver) return runUpload(fresh, file);
    client
      .forgetResumableUpload(file, { bucketId })
      .catch(() => undefined)
      .then(() => runUpload(fresh, file));
  };

  const openPicker = () => inputRef.current?.click();
  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setDragging(false);
    startUploads(Array.from(e.dataTransfer.files));
  };

  const remove = async (file: StowageFile) => {
    setConfirming(null);
    try {
      await client.deleteFile(file.id);
      setFiles((list) => list.filter((f) => f.id !== file.id));
      if ((bucket?.retentionDays ?? 0) > 0) setDeleted((list) => [file, ...list]);
      setAnnouncement(`“${file.originalName}” deleted.`);
      callbacks.current.onDeleteComplete?.(file.id);
    } catch (e) {
      setError(explainError(e, `delete “${file.originalName}”`));
    }
  };

  const undo = async (file: StowageFile) => {
    try {
      const restored = await client.restoreFile(file.id);
      setDeleted((list) => list.filter((f) => f.id !== file.id));
      setFiles((list) => [restored, ...list.filter((f) => f.id !== restored.id)].sort(byNewest));
      setAnnouncement(`“${file.originalName}” restored.`);
    } catch (e) {
      setError(explainError(e, `restore “${file.originalName}”`));
    }
  };

  const download = async (file: StowageFile) => {
    try {
      const { url } = await client.getDownloadUrl(file.id);
      // The URL answers with Content-Disposition: attachment, so the page stays.
      const link = document.createElement('a');
      link.href = url;
      link.download = file.originalName;
      link.rel = 'noopener';
      document.body.append(link);
      link.click();
      link.remove();
    } catch (e) {
      setError(explainError(e, `download “${file.originalName}”`));
    }
  };

  const finished = uploads.some(
    (u) => u.state !== 'uploading' && u.state !== 'interrupted' && u.state !== 'checking',
  );

  return (
    <section className="sfm" aria-labelledby={ids.title}>
      <header className="sfm-header">
        <h2 id={ids.title}>
          Files for {entityType} {entityId}
        </h2>
        <span className="sfm-user">Signed in as {userId}</span>
      </header>

      <button
        type="button"
        className={`sfm-drop${dragging ? ' sfm-drop-active' : ''}`}
        aria-describedby={ids.rules}
        onClick={openPicker}
        onDragEnter={(e) => {
          e.preventDefault();
          setDragging(true);
        }}
        onDragOver={(e) => {
          e.preventDefault();
          e.dataTransfer.dropEffect = 'copy';
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={onDrop}
        data-testid="drop-zone"
      >
        <strong>Drop files here</strong> or choose files
        <span id={ids.rules} className="sfm-rules">
          {bucket ? describeRules(bucket) : ' '}
        </span>
      </button>
      <input
        ref={inputRef}
        id={ids.input}
        className="sfm-visually-hidden"
        type="file"
        multiple
        tabIndex={-1}
        aria-label="Choose files to upload"
        accept={bucket?.allowedMimeTypes?.join(',') ?? undefined}
        onChange={(e) => {
          startUploads(Array.from(e.target.files ?? []));
          e.target.value = '';
        }}
      />

      <div className="sfm-live sfm-visually-hidden" aria-live="polite" role="status">
        {announcement}
      </div>

      {uploads.length > 0 && (
        <section className="sfm-uploads" aria-label="Uploads">
          <ul>
            {uploads.map((u) => (
              <li key={u.key} className={`sfm-upload sfm-upload-${u.state}`} data-state={u.state}>
                <span className="sfm-upload-name">{u.name}</span>
                <progress
                  max={Math.max(u.size, 1)}
                  value={u.size === 0 && u.state === 'done' ? 1 : u.loaded}
                  aria-label={`Progress of ${u.name}`}
                />
                <span className="sfm-upload-percent">
                  {u.state === 'uploading'
                    ? `${u.size ? Math.floor((u.loaded / u.size) * 100) : 0}%`
                    : u.state === 'done'
                      ? '100%'
                      : ''}
                </span>
                <span
                  className="sfm-upload-message"
                  role={u.state === 'rejected' || u.state === 'failed' ? 'alert' : undefined}
                >
                  {u.message}
                </span>
                {u.state === 'uploading' ? (
                  <button type="button" onClick={() => u.controller.abort()}>
                    Cancel<span className="sfm-visually-hidden"> upload of {u.name}</span>
                  </button>
                ) : null}
                {u.state === 'interrupted' ? (
                  <>
                    <button type="button" onClick={() => resume(u, false)}>
                      Resume<span className="sfm-visually-hidden"> upload of {u.name}</span>
                    </button>{' '}
                    <button type="button" onClick={() => resume(u, true)}>
                      Start over<span className="sfm-visually-hidden"> upload of {u.name}</span>
                    </button>
                  </>
                ) : null}
              </li>
            ))}
          </ul>
          {finished && (
            <button
              type="button"
              className="sfm-link"
              onClick={() =>
                setUploads((list) =>
                  list.filter(
                    (u) => u.state === 'uploading' || u.state === 'interrupted' || u.state === 'checking',
                  ),
                )
              }
            >
              Clear finished uploads
            </button>
          )}
        </section>
      )}

      {error && (
        <p className="sfm-error" role="alert">
          {error}{' '}
          <button type="button" className="sfm-link" onClick={() => setError(null)}>
            Dismiss
          </button>
        </p>
      )}

      {deleted.length > 0 && (
        <ul className="sfm-deleted" aria-label="Recently deleted">
          {deleted.map((f) => (
            <li key={f.id}>
              “{f.originalName}” deleted. It can be restored for {bucket?.retentionDays} days.{' '}
              <button type="button" onClick={() => undo(f)}>
                Undo<span className="sfm-visually-hidden"> delete of {f.originalName}</span>
              </button>
            </li>
          ))}
        </ul>
      )}

      <table className="sfm-table">
        <caption className="sfm-visually-hidden">
          Files for {entityType} {entityId}
        </caption>
        <thead>
          <tr>
            <th scope="col">
              <span className="sfm-visually-hidden">Preview</span>
            </th>
            <th scope="col">Name</th>
            <th scope="col">Type</th>
            <th scope="col">Size</th>
            <th scope="col">Uploaded</th>
            <th scope="col">By</th>
            <th scope="col">
              <span className="sfm-visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {files.map((f) => (
            <tr key={f.id} data-file-id={f.id}>
              <td>
                <Thumbnail client={client} file={f} />
              </td>
              <td className="sfm-name">{f.originalName}</td>
              <td>{describeType(f.mimeType)}</td>
              <td>{formatBytes(f.size)}</td>
              <td>
                <time dateTime={f.createdAt}>{dateFormat.format(new Date(f.createdAt))}</time>
              </td>
              <td>{f.uploadedBy === userId ? `you (${userId})` : f.uploadedBy}</td>
              <td className="sfm-actions">
                {acting?.fileId === f.id ? (
                  acting.action === 'rename' ? (
                    <RenameForm
                      client={client}
                      file={f}
                      onError={setError}
                      onAnnounce={setAnnouncement}
                      onClose={() => setActing(null)}
                      onRenamed={(renamed) =>
                        setFiles((list) => list.map((x) => (x.id === renamed.id ? renamed : x)))
                      }
                    />
                  ) : (
                    <ShareLinkForm
                      client={client}
                      file={f}
                      onError={setError}
                      onAnnounce={setAnnouncement}
                      onClose={() => setActing(null)}
                    />
                  )
                ) : confirming === f.id ? (
                  <fieldset className="sfm-confirm">
                    <legend>Delete “{f.originalName}”?</legend>
                    <button type="button" className="sfm-danger" onClick={() => remove(f)} ref={focusOnMount}>
                      Yes, delete
                    </button>{' '}
                    <button type="button" onClick={() => setConfirming(null)}>
                      Keep
                    </button>
                  </fieldset>
                ) : (
                  <>
                    <button type="button" onClick={() => download(f)}>
                      Download<span className="sfm-visually-hidden"> {f.originalName}</span>
                    </button>{' '}
                    <button type="button" onClick={() => setActing({ fileId: f.id, action: 'rename' })}>
                      Rename<span className="sfm-visually-hidden"> {f.originalName}</span>
                    </button>{' '}
                    <button type="button" onClick={() => setActing({ fileId: f.id, action: 'share' })}>
                      Share link<span className="sfm-visually-hidden"> {f.originalName}</span>
                    </button>{' '}
                    <button type="button" onClick={() => setConfirming(f.id)}>
                      Delete<span className="sfm-visually-hidden"> {f.originalName}</span>
                    </button>
                  </>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {!loading && files.length === 0 && !error && <p className="sfm-empty">No files yet.</p>}
      {loading && <p className="sfm-loading">Loading…</p>}
      {cursor && !loading && (
        <button type="button" className="sfm-more" onClick={loadMore}>
          Load more
        </button>
      )}
    </section>
  );
}
