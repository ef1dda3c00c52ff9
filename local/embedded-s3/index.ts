export { CORS_EXPOSED, CORS_METHODS } from './cors.js';
export { CREDENTIALS_FILE, type KeyPair, readEmbeddedS3Credentials } from './credentials.js';
export { type EmbeddedS3, type EmbeddedS3Options, startEmbeddedS3 } from './server.js';
