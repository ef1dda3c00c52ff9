/**
 * Asks for a file's preview to be rendered ahead of time, when it becomes active; a preview
 * that was not rendered ahead is rendered on demand. The file's type lets a deployment send
 * the formats a browser draws to another renderer than PDFs and images.
 */
export interface PreviewScheduler {
  schedule(tenantId: string, fileId: string, mimeType?: string): void;
}
