/**
 * Asks for a file's preview to be rendered ahead of time, when it becomes active. Never blocks
 * and never throws: the caller (`complete`, a storage event) has nothing to wait for, and a
 * preview that was not rendered ahead is rendered on demand. Adapters: an in-process queue (the
 * local stack), an asynchronous Lambda invocation or a queue message (AWS).
 */
export interface PreviewScheduler {
  schedule(tenantId: string, fileId: string): void;
}
