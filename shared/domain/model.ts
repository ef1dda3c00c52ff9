import type { FileStatus, RejectionReason } from './file-state.js';
import type { MalwareScanMode, ScanStatus } from './malware-scan.js';

/** The verified caller: from JWT claims only, never from a body, path or query. */
export interface Actor {
  tenantId: string;
  userId: string;
  roles: readonly Role[];
}

export type Role = 'admin' | 'member' | 'viewer';
export const ROLES: readonly Role[] = ['admin', 'member', 'viewer'];

/** `system` is the actor of work done on storage events and schedules. */
export const SYSTEM_ACTOR = 'system';

/**
 * Actors the service writes itself: `system`, and `link:{id}` for share-link downloads (API.md
 * section 13.4), with `system:` kept for more. No token may name one as its subject, or its
 * audit events would pass for the service's; case and edge spaces do not make a new name.
 */
export const RESERVED_ACTOR_PREFIXES = ['system:', 'link:'] as const;
export function isReservedActor(userId: string): boolean {
  const name = userId.trim().toLowerCase();
  return name === SYSTEM_ACTOR || RESERVED_ACTOR_PREFIXES.some((prefix) => name.startsWith(prefix));
}

export interface S3ProviderConfig {
  bucket: string;
  region: string;
  endpoint?: string;
  forcePathStyle?: boolean;
}

export interface Provider {
  id: string;
  type: 's3';
  name: string;
  config: S3ProviderConfig;
  hasCredentials: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface ProviderCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface Bucket {
  id: string;
  name: string;
  providerId: string;
  path: string;
  allowedMimeTypes: string[] | null;
  maxFileSize: number;
  retentionDays: number;
  restricted: boolean;
  deleteUnreferenced: boolean;
  /** API.md 13.6: files stay pending until the malware scanner answers. Absent is `off`. */
  malwareScan?: MalwareScanMode;
  createdAt: string;
  updatedAt: string;
}

export interface EntityRef {
  entityType: string;
  entityId: string;
}

export interface MultipartState {
  uploadId: string;
  partSize: number;
  partCount: number;
  /**
   * Created with SHA-256 part checksums: every part URL signs its part's `x-amz-checksum-sha256`
   * (so storage verifies each part) and every part must have one (S3's rule for such uploads).
   */
  partChecksums?: boolean;
}

export interface FileRecord {
  id: string;
  tenantId: string;
  bucketId: string;
  providerId: string;
  originalName: string;
  /** Declared type until validation; then the detected type where the bytes name one. */
  mimeType: string;
  declaredMimeType: string;
  /**
   * The charset a text upload declared (WHATWG name, `windows-1252`...): its bytes are checked,
   * served and previewed as that encoding. Absent means UTF-8 (or a byte order mark's UTF-16).
   */
  declaredCharset?: string;
  size: number;
  sha256: string | null;
  status: FileStatus;
  rejectionReason: RejectionReason | null;
  uploadedBy: string;
  createdAt: string;
  updatedAt: string;
  deletedAt: string | null;
  /** When the upload instructions expire; the sweeper abandons pending files after it. */
  uploadExpiresAt: string | null;
  multipart: MultipartState | null;
  references: EntityRef[];
  objectKey: string;
  /**
   * The object validation accepted (API.md 13.1): downloads, previews and later storage events
   * are held to it. Null until the file is active (and on records older than this field).
   */
  validatedObject: ValidatedObject | null;
  /**
   * A pending file whose bytes passed every other check and whose declared sha256 is being
   * verified in the background (API.md 13.2): never set on other statuses.
   */
  verifying?: boolean;
  /**
   * API.md 13.6, for files of a bucket with `malwareScan: required` only: `pending` while the
   * scanner has not answered, then its verdict. Absent on files nobody scans.
   */
  scan?: ScanStatus;
  /** API.md 13.3: the client's string map, replaced whole by PATCH; absent on older items is {}. */
  metadata?: Record<string, string>;
  /** The state of the preview of the file's current variant, kept by the preview service; absent is 'none'. */
  previewStatus?: PreviewStatus;
}

/** An object's identity as storage reports it: the version id where kept, and the ETag. */
export interface ValidatedObject {
  etag: string | null;
  versionId: string | null;
}

export type PreviewStatus = 'none' | 'pending' | 'ready' | 'failed';

export interface AuditEvent {
  id: string;
  type: string;
  at: string;
  actor: string;
  fileId: string | null;
  providerId: string | null;
  status: 'ok' | 'error';
  latencyMs: number | null;
  details: Record<string, unknown>;
}

/** What a grant on an entity lets its user do with the entity's files (API.md section 8). */
export const GRANT_ACCESS = ['read', 'write'] as const;
export type GrantAccess = (typeof GRANT_ACCESS)[number];

export interface Grant {
  entityType: string;
  entityId: string;
  userId: string;
  access: GrantAccess;
  createdAt: string;
  updatedAt: string;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}
