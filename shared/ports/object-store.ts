import type { Readable } from 'node:stream';

/**
 * The port to a bucket of an S3-compatible store (AWS S3, MinIO, the embedded store). Keys
 * are built by `shared/domain/keys.ts`; adapters never invent them.
 */
export interface ObjectStore {
  /** A presigned PUT that signs content-length and content-type (and the sha256 when given). */
  presignPut(input: PresignPutInput): Promise<PresignedRequest>;
  /** A presigned POST whose policy pins the key, the content type and the exact length. */
  presignPost(input: PresignPutInput): Promise<PresignedPost>;
  presignGet(input: PresignGetInput): Promise<string>;

  createMultipartUpload(input: { key: string; contentType: string }): Promise<{ uploadId: string }>;
  presignUploadPart(input: {
    key: string;
    uploadId: string;
    partNumber: number;
    expiresInSeconds: number;
  }): Promise<string>;
  /** Throws `InvalidPartsError` when the parts do not match what was uploaded. */
  completeMultipartUpload(input: { key: string; uploadId: string; parts: CompletedPart[] }): Promise<void>;
  abortMultipartUpload(input: { key: string; uploadId: string }): Promise<void>;

  /** null when no object is at the key. */
  head(key: string): Promise<ObjectHead | null>;
  /** Bytes [0, length) of the object (fewer if it is shorter); null when absent. */
  readFirstBytes(key: string, length: number): Promise<Uint8Array | null>;
  /** The whole object as a stream; null when absent. */
  stream(key: string): Promise<Readable | null>;
  put(input: { key: string; body: Uint8Array; contentType: string }): Promise<void>;
  copy(input: { sourceKey: string; destinationKey: string }): Promise<void>;
  /** Idempotent: deleting a missing key succeeds. */
  delete(key: string): Promise<void>;
  deleteMany(keys: readonly string[]): Promise<void>;
  list(input: { prefix: string; cursor?: string; limit?: number }): Promise<ObjectListing>;
}

export interface PresignPutInput {
  key: string;
  contentType: string;
  contentLength: number;
  /** Base64 of the SHA-256 digest; storage refuses a body with another checksum. */
  checksumSha256Base64?: string;
  expiresInSeconds: number;
}

export interface PresignGetInput {
  key: string;
  expiresInSeconds: number;
  responseContentType?: string;
  responseContentDisposition?: string;
}

export interface PresignedRequest {
  url: string;
  /** Headers the client must send exactly. */
  headers: Record<string, string>;
}

export interface PresignedPost {
  url: string;
  fields: Record<string, string>;
}

export interface CompletedPart {
  partNumber: number;
  etag: string;
}

export interface ObjectHead {
  size: number;
  contentType: string | null;
  etag: string | null;
  /** Base64 SHA-256 when the store keeps one for a whole object; null otherwise. */
  checksumSha256Base64: string | null;
  lastModified: Date | null;
}

export interface ObjectListing {
  objects: { key: string; size: number; lastModified: Date | null }[];
  nextCursor: string | null;
}

/** The parts given to complete a multipart upload do not match what storage holds. */
export class InvalidPartsError extends Error {
  override readonly name = 'InvalidPartsError';
}

/** The multipart upload id is unknown to storage (completed, aborted or never created). */
export class NoSuchUploadError extends Error {
  override readonly name = 'NoSuchUploadError';
}

/** A call to the store failed after the adapter's retries. */
export class ObjectStoreError extends Error {
  override readonly name = 'ObjectStoreError';
}

/** Finds the store that holds a provider's objects: the deployment's own for `default`. */
export interface ObjectStoreResolver {
  forProvider(tenantId: string, providerId: string): Promise<ObjectStore>;
  /** The deployment's own store (the `default` provider), whose events reach process-upload. */
  defaultStore(): ObjectStore;
}
