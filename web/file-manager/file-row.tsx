import type { StowageClient, StowageFile } from '@stowage/client';
import { RenameForm, ShareLinkForm } from './file-actions.js';
import { describeType, formatBytes } from './messages.js';
import { Thumbnail } from './thumbnail.js';
import type { FileListState } from './use-file-list.js';

/** What a row's last cell shows: its buttons, a form in their place, or the delete question. */
export type RowMode = 'actions' | 'rename' | 'share' | 'confirm-delete';

interface FileRowProps {
  client: StowageClient;
  list: FileListState;
  file: StowageFile;
  userId: string;
  mode: RowMode;
  onMode: (mode: RowMode) => void;
  onAnnounce: (message: string) => void;
}

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
// The confirm button takes focus when the person asked to delete, so Enter confirms.
const focusOnMount = (el: HTMLButtonElement | null) => {
  el?.focus();
};

/** One file: its preview and facts, and Download, Rename, Share link and Delete. */
export function FileRow({ client, list, file: f, userId, mode, onMode, onAnnounce }: FileRowProps) {
  const close = () => onMode('actions');
  return (
    <tr data-file-id={f.id}>
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
        {mode === 'rename' ? (
          <RenameForm file={f} rename={list.rename} onClose={close} />
        ) : mode === 'share' ? (
          <ShareLinkForm
            client={client}
            file={f}
            onError={list.setError}
            onAnnounce={onAnnounce}
            onClose={close}
          />
        ) : mode === 'confirm-delete' ? (
          <fieldset className="sfm-confirm">
            <legend>Delete “{f.originalName}”?</legend>
            <button
              type="button"
              className="sfm-danger"
              onClick={() => {
                close();
                void list.remove(f);
              }}
              ref={focusOnMount}
            >
              Yes, delete
            </button>{' '}
            <button type="button" onClick={close}>
              Keep
            </button>
          </fieldset>
        ) : (
          <>
            <button type="button" onClick={() => list.download(f)}>
              Download<span className="sfm-visually-hidden"> {f.originalName}</span>
            </button>{' '}
            <button type="button" onClick={() => onMode('rename')}>
              Rename<span className="sfm-visually-hidden"> {f.originalName}</span>
            </button>{' '}
            <button type="button" onClick={() => onMode('share')}>
              Share link<span className="sfm-visually-hidden"> {f.originalName}</span>
            </button>{' '}
            <button type="button" onClick={() => onMode('confirm-delete')}>
              Delete<span className="sfm-visually-hidden"> {f.originalName}</span>
            </button>
          </>
        )}
      </td>
    </tr>
  );
}
