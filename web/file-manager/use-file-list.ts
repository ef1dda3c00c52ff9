import type { Bucket, StowageClient, StowageFile } from '@stowage/client';
import { useCallback, useEffect, useRef, useState } from 'react';
import { explainError } from './messages.js';

export interface UseFileListOptions {
  client: StowageClient;
  bucketId: string;
  entityType: string;
  entityId: string;
  /** Files per page. Default 20. */
  pageSize?: number;
  /** Each change worth telling a screen-reader user, in words (“report.pdf” deleted.). */
  onAnnounce?: (message: string) => void;
  /** After a file was deleted. */
  onDeleteComplete?: (fileId: string) => void;
}

/** The active files of one entity in one bucket, and what a person can do with them. */
export interface FileListState {
  /** The bucket's rules (types, size, retention); null until loaded. */
  bucket: Bucket | null;
  /** Newest first. */
  files: StowageFile[];
  loading: boolean;
  /** The last failure in words for the person (“Could not delete …”); null when none. */
  error: string | null;
  /** More files than the pages loaded so far. */
  hasMore: boolean;
  /** Deleted here and still restorable (buckets with `retentionDays` > 0), newest first. */
  recentlyDeleted: StowageFile[];
  loadMore: () => Promise<void>;
  remove: (file: StowageFile) => Promise<void>;
  restore: (file: StowageFile) => Promise<void>;
  /** The renamed file as the service answered it, or null when it failed (then `error` says why). */
  rename: (file: StowageFile, name: string) => Promise<StowageFile | null>;
  /** Saves the file through the browser's download (the URL answers as an attachment). */
  download: (file: StowageFile) => Promise<void>;
  /** Puts a new or changed file in the list, e.g. an upload that became active. */
  add: (file: StowageFile) => void;
  setError: (message: string | null) => void;
}

const byNewest = (a: StowageFile, b: StowageFile) => b.createdAt.localeCompare(a.createdAt);
const withFile = (list: StowageFile[], file: StowageFile) =>
  [file, ...list.filter((f) => f.id !== file.id)].sort(byNewest);

/**
 * The list behind the FileManager, for apps with their own UI: loads the bucket and the first
 * page (again when the bucket or entity changes), pages on, and deletes, restores, renames and
 * downloads with the service's answer applied to the list. Failures land in `error`, never thrown.
 */
export function useFileList(options: UseFileListOptions): FileListState {
  const { client, bucketId, entityType, entityId, pageSize = 20 } = options;
  const callbacks = useRef(options);
  callbacks.current = options;
  const announce = useCallback((message: string) => callbacks.current.onAnnounce?.(message), []);

  const [bucket, setBucket] = useState<Bucket | null>(null);
  const [files, setFiles] = useState<StowageFile[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [recentlyDeleted, setRecentlyDeleted] = useState<StowageFile[]>([]);
  const bucketRef = useRef(bucket);
  bucketRef.current = bucket;

  useEffect(() => {
    const controller = new AbortController();
    const signal = controller.signal;
    setLoading(true);
    setError(null);
    setFiles([]);
    setRecentlyDeleted([]);
    Promise.all([
      client.getBucket(bucketId, { signal }),
      client.listFiles({ bucketId, entityType, entityId, status: 'active', limit: pageSize }, { signal }),
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
  }, [client, bucketId, entityType, entityId, pageSize]);

  const loadMore = useCallback(async () => {
    if (!cursor) return;
    setLoading(true);
    try {
      const page = await client.listFiles({
        bucketId,
        entityType,
        entityId,
        status: 'active',
        limit: pageSize,
        cursor,
      });
      setFiles((current) => [...current, ...page.items.filter((f) => !current.some((c) => c.id === f.id))]);
      setCursor(page.nextCursor);
    } catch (e) {
      setError(explainError(e, 'load more files'));
    } finally {
      setLoading(false);
    }
  }, [client, bucketId, entityType, entityId, pageSize, cursor]);

  const remove = useCallback(
    async (file: StowageFile) => {
      try {
        await client.deleteFile(file.id);
        setFiles((list) => list.filter((f) => f.id !== file.id));
        if ((bucketRef.current?.retentionDays ?? 0) > 0) setRecentlyDeleted((list) => [file, ...list]);
        announce(`“${file.originalName}” deleted.`);
        callbacks.current.onDeleteComplete?.(file.id);
      } catch (e) {
        setError(explainError(e, `delete “${file.originalName}”`));
      }
    },
    [client, announce],
  );

  const restore = useCallback(
    async (file: StowageFile) => {
      try {
        const restored = await client.restoreFile(file.id);
        setRecentlyDeleted((list) => list.filter((f) => f.id !== file.id));
        setFiles((list) => withFile(list, restored));
        announce(`“${file.originalName}” restored.`);
      } catch (e) {
        setError(explainError(e, `restore “${file.originalName}”`));
      }
    },
    [client, announce],
  );

  const rename = useCallback(
    async (file: StowageFile, name: string) => {
      try {
        const renamed = await client.renameFile(file.id, name);
        setFiles((list) => list.map((f) => (f.id === renamed.id ? renamed : f)));
        announce(`“${file.originalName}” renamed to “${renamed.originalName}”.`);
        return renamed;
      } catch (e) {
        setError(explainError(e, `rename “${file.originalName}”`));
        return null;
      }
    },
    [client, announce],
  );

  const download = useCallback(
    async (file: StowageFile) => {
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
    },
    [client],
  );

  const add = useCallback((file: StowageFile) => setFiles((list) => withFile(list, file)), []);

  return {
    bucket,
    files,
    loading,
    error,
    hasMore: Boolean(cursor),
    recentlyDeleted,
    loadMore,
    remove,
    restore,
    rename,
    download,
    add,
    setError,
  };
}
