import type { Readable } from 'node:stream';

/**
 * The port to a bucket of an S3-compatible store (AWS S3, MinIO, the embedded store). Keys
 * are built by `shared/domain/keys.ts`; adapters never invent them.
 */
export interface ObjectStore {
  /**
   * A presigned PUT that can create its object once (`If-None-Match: *`) and signs the length,
   * type and disposition stored with it (and the sha256 when given).
   */
  presignPut(input: PresignPutInput): Promise<PresignedRequest>;
  /** A presigned POST whose policy pins the key, type, disposition, exact length and create-once. */
  presignPost(input: PresignPutInput): Promise<PresignedPost>;
  presignGet(input: PresignGetInput): Promise<string>;

  /**
   * The object it completes gets this type and disposition, whatever a store's GET overrides do.
   * With `partChecksums`, storage verifies a SHA-256 of every part (each part must carry one).
   */
  createMultipartUpload(input: {
    key: string;
    contentType: string;
    contentDisposition: string;
    partChecksums?: boolean;
  }): Promise<{ uploadId: string }>;
  /**
   * A presigned UploadPart that signs the part's exact length and, when given, its SHA-256
   * (sent as the `x-amz-checksum-sha256` header of `headers`).
   */
  presignUploadPart(input: {
    key: string;
    uploadId: string;
    partNumber: number;
    contentLength: number;
    checksumSha256Base64?: string;
    expiresInSeconds: number;
  }): Promise<PresignedRequest>;
  /** Every part storage holds for the upload, by part number; `NoSuchUploadError` when it is gone. */
  listParts(input: { key: string; uploadId: string }): Promise<StoredPart[]>;
  /**
   * Completes only where no object exists at the key (`If-None-Match: *`). Throws
   * `InvalidPartsError` when the parts do not match what was uploaded, `ObjectChangedError` when
   * an object is already there. An upload created with part checksums is completed with the
   * checksums storage recorded for those parts.
   */
  completeMultipartUpload(input: {
    key: string;
    uploadId: string;
    parts: CompletedPart[];
    partChecksums?: boolean;
  }): Promise<void>;
  abortMultipartUpload(input: { key: string; uploadId: string }): Promise<void>;

  /** null when no object is at the key. */
  head(key: string): Promise<ObjectHead | null>;
  /**
   * Bytes [0, length) of the object (fewer if it is shorter); null when absent. With `version`,
   * of that object only: `ObjectChangedError` when the key now holds another.
   */
  readFirstBytes(key: string, length: number, version?: ObjectVersion): Promise<Uint8Array | null>;
  /** The whole object as a stream; null when absent. `version` as for `readFirstBytes`. */
  stream(key: string, version?: ObjectVersion): Promise<Readable | null>;
  put(input: { key: string; body: Uint8Array; contentType: string }): Promise<void>;
  /** Replaces the tags of the object (of that version, when given). */
  tag(input: { key: string; versionId?: string; tags: Record<string, string> }): Promise<void>;
  /** The tags of the object (of that version, when given); null when it is absent. Optional: S3 only. */
  tags?(key: string, versionId?: string): Promise<Record<string, string> | null>;
  copy(input: { sourceKey: string; destinationKey: string }): Promise<void>;
  /** Idempotent: deleting a missing key succeeds. With `versionId`, that version only. */
  delete(key: string, versionId?: string): Promise<void>;
  deleteMany(keys: readonly string[]): Promise<void>;
  list(input: { prefix: string; cursor?: string; limit?: number }): Promise<ObjectListing>;
}

export interface PresignPutInput {
  key: string;
  contentType: string;
  /** Stored with the object, so a store that ignores download overrides still serves an attachment. */
  contentDisposition: string;
  contentLength: number;
  /** Base64 of the SHA-256 digest; storage refuses a body with another checksum. */
  checksumSha256Base64?: string;
  expiresInSeconds: number;
}

export interface PresignGetInput {
  key: string;
  /** The version to serve, where the store keeps versions (the one validation saw). */
  versionId?: string | null;
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

export interface StoredPart {
  partNumber: number;
  /** Quoted, as storage answers it. */
  etag: string;
  size: number;
  checksumSha256Base64: string | null;
}

export interface ObjectHead {
  size: number;
  contentType: string | null;
  etag: string | null;
  /** Set by stores with versioning on (the AWS uploads bucket); null elsewhere. */
  versionId: string | null;
  /** Base64 SHA-256 when the store keeps one for a whole object; null otherwise. */
  checksumSha256Base64: string | null;
  lastModified: Date | null;
}

export interface ObjectListing {
  objects: { key: string; size: number; lastModified: Date | null }[];
  nextCursor: string | null;
}

/**
 * Which object a read means: the one validation saw. On a versioned store the version id pins it;
 * elsewhere the ETag does (a read fails rather than return other bytes).
 */
export interface ObjectVersion {
  versionId: string | null;
  etag: string | null;
}

/** The key holds another object than the one asked for (or one exists where none may). */
export class ObjectChangedError extends Error {
  override readonly name = 'ObjectChangedError';
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
