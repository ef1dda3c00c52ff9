export type { SendBytes, SendRequest, SendResult } from './send-bytes.js';
export { fetchSendBytes, xhrSendBytes } from './send-bytes.js';
export { apiErrorFrom, isStowageApiError, StowageApiError } from './stowage-api-error.js';
export type { CallOptions, StowageClient, StowageClientOptions } from './stowage-client.js';
export { createStowageClient } from './stowage-client.js';
export type * from './types.js';
export type { UploadApi, UploadOptions, UploadProgress } from './upload.js';
export { uploadFile } from './upload.js';
