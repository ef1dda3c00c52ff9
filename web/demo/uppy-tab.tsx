import '@uppy/core/css/style.min.css';
import '@uppy/dashboard/css/style.min.css';
import Stowage from '@stowage/uppy';
import Uppy from '@uppy/core';
import Dashboard from '@uppy/dashboard';
import { type ReactNode, useEffect, useRef } from 'react';

type Tab = 'file-manager' | 'uppy';

/** "Upload with: FileManager | Uppy", and the Uppy panel when it is chosen (the page shows the FileManager otherwise). */
export function UploadTabs(props: { tab: Tab; onSelect: (tab: Tab) => void; children: ReactNode }) {
  const tabs: [Tab, string][] = [
    ['file-manager', 'FileManager'],
    ['uppy', 'Uppy'],
  ];
  return (
    <>
      <div className="demo-tabs" role="tablist" aria-label="Upload with">
        {tabs.map(([id, label]) => (
          <button
            key={id}
            type="button"
            role="tab"
            className="demo-tab"
            id={`demo-tab-${id}`}
            aria-selected={props.tab === id}
            onClick={() => props.onSelect(id)}
          >
            {label}
          </button>
        ))}
      </div>
      {props.tab === 'uppy' && (
        <div className="demo-card" role="tabpanel" aria-labelledby="demo-tab-uppy">
          {props.children}
        </div>
      )}
    </>
  );
}

/**
 * The same bucket and entity as the FileManager, through Uppy's Dashboard and @stowage/uppy:
 * what an app that already uses Uppy gets with the plugin's five lines.
 */
export function UppyTab(props: {
  apiUrl: string;
  getToken: () => Promise<string>;
  bucketId: string;
  entityType: string;
  entityId: string;
}) {
  const target = useRef<HTMLDivElement>(null);
  const { apiUrl, getToken, bucketId, entityType, entityId } = props;
  useEffect(() => {
    if (!target.current) return;
    const uppy = new Uppy({ id: `demo-${bucketId}` })
      .use(Dashboard, {
        inline: true,
        target: target.current,
        height: 420,
        proudlyDisplayPoweredByUppy: false,
      })
      .use(Stowage, { baseUrl: apiUrl, getToken, bucketId, references: [{ entityType, entityId }] });
    uppy.on('upload-success', (file, response) =>
      console.info('uppy upload complete', file?.name, response.body),
    );
    return () => uppy.destroy();
  }, [apiUrl, getToken, bucketId, entityType, entityId]);
  return <div ref={target} />;
}
