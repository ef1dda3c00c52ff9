import type { FileJobScheduler } from './file-job-scheduler.js';

/**
 * Asks for a file's preview to be rendered ahead of time, when it becomes active; a preview
 * that was not rendered ahead is rendered on demand.
 */
export type PreviewScheduler = FileJobScheduler;
