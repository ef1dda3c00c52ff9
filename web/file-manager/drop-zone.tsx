import type { Bucket } from '@stowage/client';
import { useId, useRef, useState } from 'react';
import { describeRules } from './messages.js';

/**
 * Where files are dropped or chosen: a button (so Enter and Space open the picker) that also
 * takes drops, described by the bucket's rules, and the hidden multiple-file input it opens.
 */
export function DropZone({ bucket, onFiles }: { bucket: Bucket | null; onFiles: (files: File[]) => void }) {
  const ids = { rules: useId(), input: useId() };
  const inputRef = useRef<HTMLInputElement>(null);
  const [dragging, setDragging] = useState(false);
  return (
    <>
      <button
        type="button"
        className={`sfm-drop${dragging ? ' sfm-drop-active' : ''}`}
        aria-describedby={ids.rules}
        onClick={() => inputRef.current?.click()}
        onDragEnter={(e) => {
          e.preventDefault();
          setDragging(true);
        }}
        onDragOver={(e) => {
          e.preventDefault();
          e.dataTransfer.dropEffect = 'copy';
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={(e) => {
          e.preventDefault();
          setDragging(false);
          onFiles(Array.from(e.dataTransfer.files));
        }}
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
          onFiles(Array.from(e.target.files ?? []));
          e.target.value = '';
        }}
      />
    </>
  );
}
