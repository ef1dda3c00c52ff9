import type { StowageClient, StowageFile } from '@stowage/client';
import { useEffect, useState } from 'react';

const previewable = (file: StowageFile) =>
  file.status === 'active' && (file.mimeType === 'application/pdf' || file.mimeType.startsWith('image/'));

const BADGES: Record<string, string> = { 'application/pdf': 'PDF', 'text/plain': 'TXT', 'text/csv': 'CSV' };
const badgeOf = (mime: string) => {
  if (BADGES[mime]) return BADGES[mime];
  const sub = mime.split('/')[1] ?? '';
  return (sub.split(/[.+-]/).at(-1) ?? 'file').slice(0, 4).toUpperCase() || 'FILE';
};

/** A PNG preview for PDFs and images, asked again while it renders (202); a type badge otherwise. */
export function Thumbnail({ client, file }: { client: StowageClient; file: StowageFile }) {
  const [url, setUrl] = useState<string | null>(null);

  useEffect(() => {
    if (!previewable(file)) return;
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let tries = 0;
    const ask = async () => {
      try {
        const preview = await client.getPreview(file.id, { signal: controller.signal });
        if ('url' in preview) setUrl(preview.url);
        else if (++tries < 20) timer = setTimeout(ask, Math.min(preview.retryAfterSeconds, 5) * 1000);
      } catch {
        // No preview (unsupported, failed, gone): the badge stays.
      }
    };
    void ask();
    return () => {
      controller.abort();
      clearTimeout(timer);
    };
  }, [client, file]);

  if (url)
    return <img className="sfm-thumb" src={url} alt={`Preview of ${file.originalName}`} loading="lazy" />;
  return (
    <span className="sfm-thumb sfm-badge" aria-hidden="true">
      {badgeOf(file.mimeType)}
    </span>
  );
}
