import type { MetadataFilter } from '../domain/file-metadata.js';
import type { FileStatus, RejectionReason } from '../domain/file-state.js';
import type { FilePartition } from '../domain/keys.js';
import type {
  AuditEvent,
  Bucket,
  EntityRef,
  FileRecord,
  Grant,
  Page,
  Provider,
  ValidatedObject,
} from '../domain/model.js';
import type { PreviewCounters, PreviewEntry } from '../domain/preview.js';
import type { Quota } from '../domain/quota.js';
import type { ShareLink } from '../domain/share-link.js';
import type { Webhook, WebhookDelivery } from '../domain/webhook.js';

/**
 * The metadata ports. One DynamoDB table backs them all (DESIGN.md); each state change that
 * moves bytes between quota counters is one transaction with its condition, so a duplicate
 * event or a second `complete` fails its condition and changes nothing. Transition methods
 * answer `false` when their precondition no longer holds (another writer got there first).
 */
export interface MetadataStore {
  providers: ProviderRepository;
  buckets: BucketRepository;
  files: FileRepository;
  references: ReferenceRepository;
  grants: GrantRepository;
  events: EventRepository;
  quota: QuotaRepository;
  previews: PreviewRepository;
  links: ShareLinkRepository;
  webhooks: WebhookRepository;
}

export interface PageRequest {
  limit: number;
  /** Opaque, from a previous page of the same query; a foreign or corrupt one → InvalidCursorError. */
  cursor?: string;
  /**
   * Items the adapter may read for this page, matching or not. Once read, the page answers
   * what matched so far (fewer than `limit`, maybe none) with a cursor that continues after the
   * last item read. Omitted: read until the page is exact.
   */
  maxRead?: number;
}

export interface ProviderRepository {
  /** Throws AlreadyExistsError when the id is taken. */
  create(tenantId: string, provider: Provider): Promise<void>;
  get(tenantId: string, providerId: string): Promise<Provider | null>;
  list(tenantId: string, page: PageRequest): Promise<Page<Provider>>;
  /** Throws InUseError while a bucket refers to it; false when it did not exist. */
  delete(tenantId: string, providerId: string): Promise<boolean>;
}

export interface BucketRepository {
  /**
   * Claims the (case-insensitive) name and, for a non-default provider, counts the bucket on
   * the provider in one transaction. Throws NameTakenError, or NotFoundError for the provider.
   */
  create(tenantId: string, bucket: Bucket): Promise<void>;
  /**
   * Hot paths may be served from a short-lived cache (`withBucketCache`); `fresh` skips it, for
   * a read-modify-write and for the bucket's own API answers.
   */
  get(tenantId: string, bucketId: string, opts?: { fresh?: boolean }): Promise<Bucket | null>;
  list(tenantId: string, page: PageRequest): Promise<Page<Bucket>>;
  /** Writes the whole new bucket; moves the name claim when the name changed (NameTakenError). */
  update(tenantId: string, before: Bucket, after: Bucket): Promise<void>;
  /**
   * False when it did not exist. Throws InUseError while it counts a pending, active or deleted
   * file (the count moves in the same transactions as the files, so this is atomic).
   */
  delete(tenantId: string, bucket: Bucket): Promise<boolean>;
  /** Each bucket's recorded count of live files; null for a bucket written before the count. */
  liveFileCounts(tenantId: string): Promise<Map<string, number | null>>;
  /** Sets a bucket's count (the consistency check's repair) if it still is `seen`; false otherwise. */
  setLiveFileCount(tenantId: string, bucketId: string, seen: number | null, actual: number): Promise<boolean>;
}

export interface FileListQuery {
  tenantId: string;
  /** Omitted: every bucket of the tenant. */
  bucketId?: string;
  partition: FilePartition;
  /** Narrow to one status inside the partition. */
  status?: FileStatus;
  /** Exact type, or `type/*`. */
  mimeType?: string;
  /** Files whose metadata holds this key with exactly this value (API.md 13.3). */
  metadata?: MetadataFilter;
}

/**
 * Files and their lifecycle. Each transition takes the audit event that tells of it (`event`,
 * optional) and writes it in the same transaction as the change, only if the change applies: the
 * outbox that webhooks and the event bus read (API.md 13.5), so no change is left untold by a
 * crash between the two.
 */
export interface FileRepository {
  /**
   * Writes the pending file (with its initial references), reserves `file.size` bytes of the
   * tenant's quota and counts the file on its bucket, atomically. Throws QuotaExceededError when
   * the quota cannot hold it, NotFoundError when the bucket is gone.
   */
  createPending(file: FileRecord, event?: AuditEvent): Promise<void>;
  get(tenantId: string, fileId: string): Promise<FileRecord | null>;
  /**
   * Newest first; `limit` items at most and a cursor exactly when more match (or, with
   * `page.maxRead`, when reading stopped before the index's end). `accept` narrows further (what
   * the caller may see) inside the same loop.
   */
  list(
    query: FileListQuery,
    page: PageRequest,
    accept?: (file: FileRecord) => boolean,
  ): Promise<Page<FileRecord>>;
  /** In the given order, skipping ids that do not exist. */
  getMany(tenantId: string, fileIds: readonly string[]): Promise<FileRecord[]>;
  /** Any pending, active or deleted file in the bucket (rejected ones do not count). */
  bucketHasFiles(tenantId: string, bucketId: string): Promise<boolean>;

  /** pending → active; the reservation becomes used bytes and the file counts. */
  activate(
    file: FileRecord,
    changes: {
      mimeType: string;
      sha256: string | null;
      validatedObject: ValidatedObject;
      at: string;
      /** The malware scanner's verdict, for a file it had to judge (API.md 13.6). */
      scan?: 'clean';
    },
    event?: AuditEvent,
  ): Promise<boolean>;
  /** pending → rejected; the reservation is released. `scan`: the scanner's verdict that decided it. */
  reject(
    file: FileRecord,
    reason: RejectionReason,
    at: string,
    scan?: 'infected' | 'failed',
    event?: AuditEvent,
  ): Promise<boolean>;
  /** Removes a pending file and releases its reservation. */
  abandon(file: FileRecord, event?: AuditEvent): Promise<boolean>;
  /** active → deleted (kept, still counted, until purge). */
  softDelete(file: FileRecord, at: string, event?: AuditEvent): Promise<boolean>;
  /** deleted → active. */
  restore(file: FileRecord, at: string, event?: AuditEvent): Promise<boolean>;
  /** Removes a deleted file and frees its used bytes. */
  purge(file: FileRecord, event?: AuditEvent): Promise<boolean>;
  /** Removes a rejected file (its bytes were released when it was rejected). */
  removeRejected(file: FileRecord, event?: AuditEvent): Promise<boolean>;
  /**
   * Moves a pending file's expiry (and its place in the sweep) later to `until`; false when the
   * file is no longer pending or already lives that long.
   */
  extendUpload(file: FileRecord, until: string): Promise<boolean>;
  /**
   * Marks a pending file as having its checksum verified in the background (`verifying`), alive
   * until `until`; false as for `extendUpload`.
   */
  markVerifying(file: FileRecord, until: string): Promise<boolean>;
  /**
   * Marks a pending file whose other checks passed as waiting for the malware scanner
   * (`scan: pending`, no longer `verifying`), alive until `until`; false as for `extendUpload`.
   */
  markScanning(file: FileRecord, until: string): Promise<boolean>;
  /**
   * Renames the file and/or replaces its metadata, while its status is one of `statuses`;
   * answers the file as written, or null when it is gone or its status moved (API.md 13.3).
   */
  update(
    file: FileRecord,
    changes: { originalName?: string; metadata?: Record<string, string>; at: string },
    statuses: readonly FileStatus[],
    event?: AuditEvent,
  ): Promise<FileRecord | null>;
  /** Records the multipart upload id once storage has created it. */
  setMultipart(file: FileRecord, multipart: NonNullable<FileRecord['multipart']>): Promise<void>;

  /**
   * For the maintenance sweep, across tenants: pending files whose upload instructions
   * expired before `before`, or deleted files deleted before `before` (a scan: in no order).
   */
  listSweepable(kind: 'pending' | 'deleted', before: string, page: PageRequest): Promise<Page<FileRecord>>;
}

export interface ReferenceRepository {
  /**
   * Idempotent; false when the file is missing or not pending/active. Throws
   * ReferenceLimitError when the file holds MAX_REFERENCES_PER_FILE others already.
   */
  add(tenantId: string, fileId: string, ref: EntityRef, at: string): Promise<boolean>;
  /** Idempotent; false when the file is missing. */
  remove(tenantId: string, fileId: string, ref: EntityRef): Promise<boolean>;
  /**
   * Up to `limit` file ids referenced by the entity, newest file first, starting after
   * `afterFileId`; fewer than `limit` means no more follow. (The caller filters the files and
   * pages by file id, so no opaque cursor is needed here; it bounds its reading with `limit`.)
   */
  listFileIds(
    tenantId: string,
    ref: EntityRef,
    page: { limit: number; afterFileId?: string },
  ): Promise<string[]>;
  /** Removes every reference of a (purged or abandoned) file; the file item may be gone. */
  removeAllForFile(tenantId: string, fileId: string, refs: readonly EntityRef[]): Promise<void>;
}

export interface GrantRepository {
  put(tenantId: string, grant: Grant): Promise<void>;
  delete(tenantId: string, ref: EntityRef, userId: string): Promise<boolean>;
  listForEntity(tenantId: string, ref: EntityRef, page: PageRequest): Promise<Page<Grant>>;
  /** Every grant the user holds in the tenant (for filtering lists). */
  listForUser(tenantId: string, userId: string): Promise<Grant[]>;
  /** The user's grants on any of these entities. */
  findForUser(tenantId: string, userId: string, refs: readonly EntityRef[]): Promise<Grant[]>;
  /** Removes every grant on the entity; answers how many went. */
  deleteAllForEntity(tenantId: string, ref: EntityRef): Promise<number>;
}

export interface EventRepository {
  record(tenantId: string, event: AuditEvent): Promise<void>;
  list(
    tenantId: string,
    filter: { type?: string; fileId?: string },
    page: PageRequest,
  ): Promise<Page<AuditEvent>>;
}

export interface QuotaRepository {
  get(tenantId: string): Promise<Quota>;
  setLimit(tenantId: string, limitBytes: number | null): Promise<Quota>;
  /**
   * Sets the counters to what the tenant's files add up to (the consistency check's repair),
   * on condition that they still equal `seen`; false when they moved meanwhile.
   */
  reconcile(tenantId: string, seen: Quota, actual: Omit<Quota, 'limitBytes'>): Promise<boolean>;
}

/**
 * Preview cache entries and the tenant's preview counters. Saving or removing an entry moves
 * the `objects` and `bytes` counters in the same transaction, so they match what the cache holds.
 */
export interface PreviewRepository {
  get(tenantId: string, fileId: string, variant: string): Promise<PreviewEntry | null>;
  /** Every variant of one file. */
  listForFile(tenantId: string, fileId: string): Promise<PreviewEntry[]>;
  /** A tenant's entries, least recently used first. */
  listByAccess(tenantId: string, page: PageRequest): Promise<Page<PreviewEntry>>;
  /** A tenant's entries created before `before`, oldest first. */
  listCreatedBefore(tenantId: string, before: string, page: PageRequest): Promise<Page<PreviewEntry>>;
  /** For maintenance: every tenant that has preview counters (a scan of the sparse sweep index). */
  listTenants(page: PageRequest): Promise<Page<string>>;

  /**
   * Writes the entry (replacing whatever variant entry was there, keeping the counters right)
   * and marks the file's preview status, only while the file is active. `renderMs` counts a
   * render. False when the file is not active any more (nothing was written).
   */
  save(entry: PreviewEntry, opts?: { renderMs?: number }): Promise<boolean>;
  /** Removes the entry if it is still the one given (same renderId); false when it was not. */
  remove(entry: PreviewEntry): Promise<boolean>;
  /** Moves the access time (and the entry's place in the LRU order). */
  touch(entry: PreviewEntry, at: string): Promise<void>;
  /**
   * Marks the file's preview of `variant` as pending while it renders (if the file is active),
   * or, with null, takes that mark back after a render that neither finished nor failed.
   */
  markFile(tenantId: string, fileId: string, variant: string, status: 'pending' | null): Promise<void>;

  counters(tenantId: string): Promise<PreviewCounters>;
  /** Atomic adds to the request counters. */
  count(
    tenantId: string,
    deltas: Partial<Pick<PreviewCounters, 'hits' | 'misses' | 'errors'>>,
  ): Promise<void>;
}

/** Share links (API.md 13.4), keyed by their token's hash. */
export interface ShareLinkRepository {
  /** Writes the link and its id pointer together; AlreadyExistsError when either is taken. */
  create(link: ShareLink): Promise<void>;
  /** One consistent GetItem: the path of every public download. */
  getByTokenHash(tenantId: string, tokenHash: string): Promise<ShareLink | null>;
  getById(tenantId: string, linkId: string): Promise<ShareLink | null>;
  /** A file's links, newest first, at most `limit`. */
  listForFile(tenantId: string, fileId: string, limit: number): Promise<ShareLink[]>;
  /**
   * Counts one download, atomically, only while the link is active at `now` (not revoked, not
   * expired, under maxDownloads): the link as counted, or null when that condition failed.
   */
  countDownload(link: ShareLink, now: string): Promise<ShareLink | null>;
  /** Marks it revoked unless it already is; false when it was (or is gone). */
  revoke(link: ShareLink, at: string, reason: 'revoked' | 'file-deleted'): Promise<boolean>;
}

export class AlreadyExistsError extends Error {
  override readonly name = 'AlreadyExistsError';
}
export class NameTakenError extends Error {
  override readonly name = 'NameTakenError';
}
export class InUseError extends Error {
  override readonly name = 'InUseError';
}
export class NotFoundError extends Error {
  override readonly name = 'NotFoundError';
}
export class QuotaExceededError extends Error {
  override readonly name = 'QuotaExceededError';
  constructor(readonly quota: Quota) {
    super('The quota cannot hold the reservation.');
  }
}
export class ReferenceLimitError extends Error {
  override readonly name = 'ReferenceLimitError';
  constructor(
    readonly limit: number,
    options?: { cause?: unknown },
  ) {
    super(`A file holds at most ${limit} references.`, options);
  }
}
export class InvalidCursorError extends Error {
  override readonly name = 'InvalidCursorError';
}

/** Webhooks and their deliveries (API.md 13.5). */
export interface WebhookRepository {
  create(webhook: Webhook): Promise<void>;
  get(tenantId: string, webhookId: string): Promise<Webhook | null>;
  /** Every webhook of the tenant (a bounded set: WEBHOOK_LIMITS.maxPerTenant), oldest first. */
  listAll(tenantId: string): Promise<Webhook[]>;
  /** False when it did not exist. */
  delete(tenantId: string, webhookId: string): Promise<boolean>;
  /**
   * Writes a `pending` delivery, with the exact body every attempt posts, unless one exists for
   * this pair (a replayed stream record).
   */
  createDelivery(tenantId: string, delivery: WebhookDelivery, body: string): Promise<void>;
  getDelivery(tenantId: string, webhookId: string, eventId: string): Promise<WebhookDelivery | null>;
  /** Records an attempt's outcome, with the body it posted (kept for a restart or a redrive). */
  putDelivery(tenantId: string, delivery: WebhookDelivery, body: string): Promise<void>;
  /** Newest event first. */
  listDeliveries(tenantId: string, webhookId: string, page: PageRequest): Promise<Page<WebhookDelivery>>;
}
