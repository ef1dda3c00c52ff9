import { useFileList, useStowageClient, useUploads } from '@stowage/file-manager';
import { createRoot } from 'react-dom/client';

/**
 * An app with its own UI on the FileManager's hooks: its own markup and words, the hooks'
 * state and actions (see browser-file-manager-react.test.ts).
 */
interface PageConfig {
  apiUrl: string;
  token: string;
  bucketId: string;
}
const config = (window as unknown as { fileManagerPage: PageConfig }).fileManagerPage;
const entity = { entityType: 'order', entityId: 'O-8' };

function Attachments() {
  const client = useStowageClient({ apiUrl: config.apiUrl, getToken: () => config.token });
  const list = useFileList({ client, bucketId: config.bucketId, ...entity });
  const uploads = useUploads({
    client,
    bucketId: config.bucketId,
    ...entity,
    bucket: list.bucket,
    onUploadComplete: list.add,
  });
  return (
    <main>
      <label>
        Attach to the order
        <input type="file" multiple onChange={(e) => uploads.start(e.target.files ?? [])} />
      </label>
      <ol aria-label="Sending">
        {uploads.uploads.map((u) => (
          <li key={u.key} data-state={u.state}>
            {u.name}: {u.message}
          </li>
        ))}
      </ol>
      <ul aria-label="Attached">
        {list.files.map((f) => (
          <li key={f.id}>
            {f.originalName}{' '}
            <button type="button" onClick={() => list.remove(f)}>
              Detach {f.originalName}
            </button>
          </li>
        ))}
      </ul>
      {list.loading ? <p>Loading</p> : <p>{list.files.length} attached</p>}
    </main>
  );
}

const root = document.getElementById('root');
if (root) createRoot(root).render(<Attachments />);
