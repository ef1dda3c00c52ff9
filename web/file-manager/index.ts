export type { FileManagerProps } from './file-manager.js';
export { FileManager } from './file-manager.js';
export { describeRules, explainRejection, explainUploadError, formatBytes } from './messages.js';
export type { FileListState, UseFileListOptions } from './use-file-list.js';
export { useFileList } from './use-file-list.js';
export type { UseStowageClientOptions } from './use-stowage-client.js';
export { useStowageClient } from './use-stowage-client.js';
export type { UploadItem, UploadState, UploadsState, UseUploadsOptions } from './use-uploads.js';
export { useUploads } from './use-uploads.js';
