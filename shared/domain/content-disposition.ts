/**
 * `attachment; filename="<ASCII fallback>"; filename*=UTF-8''<percent-encoded>` (RFC 6266 and
 * RFC 5987). The fallback keeps printable ASCII minus quotes and backslashes, so no header
 * injection survives either form.
 */
export function contentDisposition(originalName: string): string {
  const fallback = originalName
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^\x20-\x7e]/g, '_')
    .replace(/["\\%;]/g, '_')
    .trim();
  const encoded = encodeURIComponent(originalName).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `attachment; filename="${fallback || 'download'}"; filename*=UTF-8''${encoded}`;
}
