import { FileManager } from '@stowage/file-manager';
import { version } from 'react';
import { createRoot } from 'react-dom/client';

/**
 * The smallest app that embeds the FileManager: one root, one component, a fixed token. The
 * React version tests bundle it once per React major (see file-manager-react.test.ts).
 */
interface PageConfig {
  apiUrl: string;
  token: string;
  bucketId: string;
}
const config = (window as unknown as { fileManagerPage: PageConfig }).fileManagerPage;
document.documentElement.dataset.react = version;
const root = document.getElementById('root');
if (root)
  createRoot(root).render(
    <FileManager
      apiUrl={config.apiUrl}
      getToken={() => config.token}
      bucketId={config.bucketId}
      entityType="order"
      entityId="O-7"
      userId="bob"
    />,
  );
