export { rejectionMessage } from './rejection-message.js';
export type { StowageBody, StowageFileState, StowageOptions } from './stowage.js';
export { Stowage, Stowage as default } from './stowage.js';
export { REJECTION_CODES, StowageRejectionError } from './stowage-upload-error.js';
