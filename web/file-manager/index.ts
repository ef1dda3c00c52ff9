export type { FileManagerProps } from './file-manager.js';
export { FileManager } from './file-manager.js';
export { describeRules, explainRejection, explainUploadError, formatBytes } from './messages.js';
