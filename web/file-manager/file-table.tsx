import type { StowageClient } from '@stowage/client';
import { useState } from 'react';
import { FileRow, type RowMode } from './file-row.js';
import type { FileListState } from './use-file-list.js';

interface FileTableProps {
  client: StowageClient;
  list: FileListState;
  /** The caption, read by screen readers only. */
  caption: string;
  userId: string;
  onAnnounce: (message: string) => void;
}

/**
 * The files as a table with a preview, name, type, size, date and uploader per row. One row at
 * a time shows a rename or share form, and one asks to confirm a delete.
 */
export function FileTable({ client, list, caption, userId, onAnnounce }: FileTableProps) {
  const [acting, setActing] = useState<{ fileId: string; mode: 'rename' | 'share' } | null>(null);
  const [confirming, setConfirming] = useState<string | null>(null);
  const modeOf = (fileId: string): RowMode =>
    acting?.fileId === fileId ? acting.mode : confirming === fileId ? 'confirm-delete' : 'actions';
  const setMode = (fileId: string, mode: RowMode) => {
    if (mode === 'rename' || mode === 'share') return setActing({ fileId, mode });
    if (mode === 'confirm-delete') return setConfirming(fileId);
    if (acting?.fileId === fileId) setActing(null);
    else if (confirming === fileId) setConfirming(null);
  };
  return (
    <table className="sfm-table">
      <caption className="sfm-visually-hidden">{caption}</caption>
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
        {list.files.map((f) => (
          <FileRow
            key={f.id}
            client={client}
            list={list}
            file={f}
            userId={userId}
            mode={modeOf(f.id)}
            onMode={(mode) => setMode(f.id, mode)}
            onAnnounce={onAnnounce}
          />
        ))}
      </tbody>
    </table>
  );
}
