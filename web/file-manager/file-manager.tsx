import type { StowageFile } from '@stowage/client';
import { useCallback, useId, useState } from 'react';
import { DropZone } from './drop-zone.js';
import { FileTable } from './file-table.js';
import { RecentlyDeleted } from './recently-deleted.js';
import { UploadList } from './upload-list.js';
import { useFileList } from './use-file-list.js';
import { useStowageClient } from './use-stowage-client.js';
import { useUploads } from './use-uploads.js';

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

/**
 * The files of one entity in one bucket: list with previews, uploads by drag and drop or the
 * picker (several at once, each with its progress), delete with confirmation and undo, download,
 * rename and share links. Its state is `useFileList` and `useUploads`, for apps with their own UI.
 */
export function FileManager(props: FileManagerProps) {
  const { bucketId, entityType, entityId, userId, pageSize } = props;
  const client = useStowageClient({ getToken: props.getToken, apiUrl: props.apiUrl });
  const [announcement, setAnnouncement] = useState('');
  const titleId = useId();
  const list = useFileList({
    client,
    bucketId,
    entityType,
    entityId,
    pageSize,
    onAnnounce: setAnnouncement,
    onDeleteComplete: (fileId) => props.onDeleteComplete?.(fileId),
  });
  const { add } = list;
  const onUploadComplete = props.onUploadComplete;
  const uploads = useUploads({
    client,
    bucketId,
    entityType,
    entityId,
    bucket: list.bucket,
    onAnnounce: setAnnouncement,
    onUploadComplete: useCallback(
      (file: StowageFile) => {
        add(file);
        onUploadComplete?.(file);
      },
      [add, onUploadComplete],
    ),
  });
  const title = `Files for ${entityType} ${entityId}`;

  return (
    <section className="sfm" aria-labelledby={titleId}>
      <header className="sfm-header">
        <h2 id={titleId}>{title}</h2>
        <span className="sfm-user">Signed in as {userId}</span>
      </header>

      <DropZone bucket={list.bucket} onFiles={uploads.start} />

      <div className="sfm-live sfm-visually-hidden" aria-live="polite" role="status">
        {announcement}
      </div>

      <UploadList uploads={uploads} />

      {list.error && (
        <p className="sfm-error" role="alert">
          {list.error}{' '}
          <button type="button" className="sfm-link" onClick={() => list.setError(null)}>
            Dismiss
          </button>
        </p>
      )}

      <RecentlyDeleted list={list} />

      <FileTable client={client} list={list} caption={title} userId={userId} onAnnounce={setAnnouncement} />
      {!list.loading && list.files.length === 0 && !list.error && <p className="sfm-empty">No files yet.</p>}
      {list.loading && <p className="sfm-loading">Loading…</p>}
      {list.hasMore && !list.loading && (
        <button type="button" className="sfm-more" onClick={list.loadMore}>
          Load more
        </button>
      )}
    </section>
  );
}
