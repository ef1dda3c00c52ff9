/**
 * Asks for background work on one file (a preview render, the check of a declared sha256).
 * Never blocks and never throws: the caller (`complete`, a storage event) has nothing to wait
 * for, and work that was lost is asked for again (by the next request, or by the sweep).
 * Adapters: an in-process queue (the local stack), an asynchronous Lambda invocation (AWS).
 */
export interface FileJobScheduler {
  schedule(tenantId: string, fileId: string): void;
}

/** The event a file job's function is invoked with. */
export interface FileJobRequest {
  tenantId: string;
  fileId: string;
}
