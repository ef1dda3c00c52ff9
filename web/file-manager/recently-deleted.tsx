import type { FileListState } from './use-file-list.js';

/** Files deleted here that the bucket still keeps, each with Undo. */
export function RecentlyDeleted({ list }: { list: FileListState }) {
  if (list.recentlyDeleted.length === 0) return null;
  return (
    <ul className="sfm-deleted" aria-label="Recently deleted">
      {list.recentlyDeleted.map((f) => (
        <li key={f.id}>
          “{f.originalName}” deleted. It can be restored for {list.bucket?.retentionDays} days.{' '}
          <button type="button" onClick={() => list.restore(f)}>
            Undo<span className="sfm-visually-hidden"> delete of {f.originalName}</span>
          </button>
        </li>
      ))}
    </ul>
  );
}
