import type { UploadItem, UploadsState } from './use-uploads.js';

const percent = (u: UploadItem) =>
  u.state === 'uploading'
    ? `${u.size ? Math.floor((u.loaded / u.size) * 100) : 0}%`
    : u.state === 'done'
      ? '100%'
      : '';

/** Each upload with its progress bar and message (an alert when it failed), and its actions. */
export function UploadList({ uploads }: { uploads: UploadsState }) {
  if (uploads.uploads.length === 0) return null;
  return (
    <section className="sfm-uploads" aria-label="Uploads">
      <ul>
        {uploads.uploads.map((u) => (
          <li key={u.key} className={`sfm-upload sfm-upload-${u.state}`} data-state={u.state}>
            <span className="sfm-upload-name">{u.name}</span>
            <progress
              max={Math.max(u.size, 1)}
              value={u.size === 0 && u.state === 'done' ? 1 : u.loaded}
              aria-label={`Progress of ${u.name}`}
            />
            <span className="sfm-upload-percent">{percent(u)}</span>
            <span
              className="sfm-upload-message"
              role={u.state === 'rejected' || u.state === 'failed' ? 'alert' : undefined}
            >
              {u.message}
            </span>
            {u.state === 'uploading' ? (
              <button type="button" onClick={() => uploads.cancel(u.key)}>
                Cancel<span className="sfm-visually-hidden"> upload of {u.name}</span>
              </button>
            ) : null}
            {u.state === 'interrupted' ? (
              <>
                <button type="button" onClick={() => uploads.resume(u.key)}>
                  Resume<span className="sfm-visually-hidden"> upload of {u.name}</span>
                </button>{' '}
                <button type="button" onClick={() => uploads.startOver(u.key)}>
                  Start over<span className="sfm-visually-hidden"> upload of {u.name}</span>
                </button>
              </>
            ) : null}
          </li>
        ))}
      </ul>
      {uploads.hasFinished && (
        <button type="button" className="sfm-link" onClick={uploads.clearFinished}>
          Clear finished uploads
        </button>
      )}
    </section>
  );
}
