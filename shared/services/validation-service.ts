import { createHash } from 'node:crypto';
import { detectContent, judgeType } from '../domain/content-type-detection.js';
import type { RejectionReason } from '../domain/file-state.js';
import { DEFAULT_PROVIDER_ID } from '../domain/ids.js';
import { objectKeys, parseFileObjectKey } from '../domain/keys.js';
import { isMimeAllowed } from '../domain/mime.js';
import { type Bucket, type FileRecord, SYSTEM_ACTOR, type ValidatedObject } from '../domain/model.js';
import type { ObjectHead, ObjectStore } from '../ports/object-store.js';
import { AuditTrail } from './audit-trail.js';
import type { ServiceDeps } from './service-deps.js';

export type ArrivalOutcome =
  | { kind: 'missing' }
  | { kind: 'settled'; file: FileRecord }
  | { kind: 'active'; file: FileRecord }
  | { kind: 'rejected'; file: FileRecord };

/** A storage event's outcome: an arrival, or an object no file was waiting for, removed. */
export type ObjectEventOutcome = ArrivalOutcome | { kind: 'removed'; key: string };

/** What a storage event announces: the key, and which object it is. */
export interface CreatedObject {
  key: string;
  /** Quoted, as HEAD answers it. */
  etag: string | null;
  versionId: string | null;
}

/** Rejections for size are deleted, not quarantined: no quota counts what quarantine holds. */
const DELETED_REJECTIONS: ReadonlySet<RejectionReason> = new Set(['FILE_TOO_LARGE', 'SIZE_MISMATCH']);

/**
 * API.md section 6: what happens when bytes arrive, from the storage event or `complete`.
 * It reads the size (HEAD) and only the first bytes (a ranged GET), so its cost does not grow
 * with the file; each outcome is a conditional transition, so it is idempotent under
 * duplicate and out-of-order events.
 */
export class ValidationService {
  private readonly audit: AuditTrail;

  constructor(
    private readonly deps: ServiceDeps,
    /** Told of each file that becomes active (previews are scheduled from here); must not throw. */
    private readonly onActive?: (file: FileRecord) => void,
  ) {
    this.audit = new AuditTrail(deps);
  }

  /**
   * A storage event for the deployment's own store: validates the pending file the key names.
   * An object no file is waiting for (its file settled, abandoned, purged or never existed, or
   * not the object validation accepted) changes no file and is removed (API.md 13.1); the same
   * event again, or a late one for the accepted object, changes nothing.
   */
  async onObjectCreated(object: CreatedObject): Promise<ObjectEventOutcome | null> {
    const address = parseFileObjectKey(object.key);
    if (!address) return null;
    const file = await this.deps.metadata.files.get(address.tenantId, address.fileId);
    if (file && file.providerId !== DEFAULT_PROVIDER_ID) return null;
    if (file?.status === 'pending' && file.objectKey === object.key)
      return this.validateArrival(file, SYSTEM_ACTOR);
    if (file && file.objectKey === object.key && !isForeign(file, object)) return { kind: 'settled', file };
    return this.removeStray(address, object, file);
  }

  /** `actor` is the user calling `complete`, or `system` for a storage event. */
  async validateArrival(file: FileRecord, actor: string): Promise<ArrivalOutcome> {
    if (file.status !== 'pending') return { kind: 'settled', file };
    const started = Date.now();
    const store = await this.deps.stores.forProvider(file.tenantId, file.providerId);
    const head = await store.head(file.objectKey);
    // Gone because a racing event (or `complete`) rejected it meanwhile: answer that file.
    if (!head) return this.settled(file);
    // Every read below is of this object: bytes written after the HEAD fail the read instead.
    const object: ValidatedObject = { etag: head.etag, versionId: head.versionId };
    const bucket = await this.deps.metadata.buckets.get(file.tenantId, file.bucketId);
    const verdict = await this.judge(store, file, bucket, head, object);
    const at = this.deps.clock.now().toISOString();
    const latencyMs = Date.now() - started;

    if (verdict.reason) {
      const applied = await this.deps.metadata.files.reject(file, verdict.reason, at);
      if (!applied) return this.settled(file);
      this.logOutcome(file, 'rejected', latencyMs, verdict.reason);
      await this.removeRejectedObject(store, file, verdict.reason, object);
      await this.audit.record(file.tenantId, {
        type: 'upload.rejected',
        actor,
        fileId: file.id,
        providerId: file.providerId,
        status: 'error',
        latencyMs,
        details: { reason: verdict.reason, size: head.size, detectedType: verdict.detected },
      });
      return {
        kind: 'rejected',
        file: { ...file, status: 'rejected', rejectionReason: verdict.reason, updatedAt: at },
      };
    }

    const applied = await this.deps.metadata.files.activate(file, {
      mimeType: verdict.mimeType,
      sha256: file.sha256,
      validatedObject: object,
      at,
    });
    if (!applied) return this.settled(file);
    this.logOutcome(file, 'active', latencyMs);
    const active: FileRecord = {
      ...file,
      status: 'active',
      mimeType: verdict.mimeType,
      validatedObject: object,
      updatedAt: at,
      uploadExpiresAt: null,
    };
    this.onActive?.(active);
    await this.audit.record(file.tenantId, {
      type: 'upload.completed',
      actor,
      fileId: file.id,
      providerId: file.providerId,
      latencyMs,
      details: { size: head.size, mimeType: verdict.mimeType },
    });
    return { kind: 'active', file: active };
  }

  /** One line per file that settles here; the dashboard counts accepted and rejected uploads from it. */
  private logOutcome(file: FileRecord, outcome: 'active' | 'rejected', latencyMs: number, reason?: string) {
    this.deps.logger.info('upload validated', {
      outcome,
      ...(reason ? { reason } : {}),
      fileId: file.id,
      size: file.size,
      latencyMs,
    });
  }

  private async judge(
    store: ObjectStore,
    file: FileRecord,
    bucket: Bucket | null,
    head: ObjectHead,
    object: ValidatedObject,
  ) {
    const maxFileSize = bucket?.maxFileSize ?? this.deps.settings.maxFileSize;
    const reject = (reason: RejectionReason, detected: string | null = null) => ({
      reason,
      mimeType: file.mimeType,
      detected,
    });
    if (head.size > maxFileSize) return reject('FILE_TOO_LARGE');
    if (head.size !== file.size) return reject('SIZE_MISMATCH');

    // The first bytes only, grown where a format needs it, bounded whatever the size (API.md 6).
    const detection = await detectContent(
      async (length) => (await store.readFirstBytes(file.objectKey, length, object)) ?? new Uint8Array(),
      head.size,
      this.deps.settings.sniffBytes,
    );
    const detected = detection.mime;
    const type = judgeType(file.declaredMimeType, detection);
    const allowed = bucket?.allowedMimeTypes ?? null;
    // A declaration the bytes bear out counts under the name the bucket was written with.
    if (
      !isMimeAllowed(type.mimeType, allowed) &&
      !(type.declarationHolds && isMimeAllowed(file.declaredMimeType, allowed))
    )
      return reject('MIME_TYPE_NOT_ALLOWED', detected);
    if (type.mismatch) return reject('MIME_TYPE_MISMATCH', detected);

    if (file.sha256 && !(await this.checksumMatches(store, file, head, object)))
      return reject('CHECKSUM_MISMATCH', detected);
    return { reason: null, mimeType: type.mimeType, detected };
  }

  /**
   * A checksum the store reports on HEAD is one it verified on upload (S3, MinIO, the embedded
   * store). Where it reports none (a store that ignores checksums, as moto does on a single PUT,
   * or a multipart object's composite checksum) nobody verified it: the object is hashed once,
   * streaming. A file never carries a checksum nobody checked.
   */
  private async checksumMatches(
    store: ObjectStore,
    file: FileRecord,
    head: ObjectHead,
    object: ValidatedObject,
  ): Promise<boolean> {
    const expected = Buffer.from(file.sha256 as string, 'hex').toString('base64');
    if (head.checksumSha256Base64) return head.checksumSha256Base64 === expected;
    const body = await store.stream(file.objectKey, object);
    if (!body) return false;
    const hash = createHash('sha256');
    for await (const chunk of body) hash.update(chunk as Buffer);
    return hash.digest('base64') === expected;
  }

  private async removeRejectedObject(
    store: ObjectStore,
    file: FileRecord,
    reason: RejectionReason,
    object: ValidatedObject,
  ): Promise<void> {
    try {
      if (this.deps.settings.quarantineRejected && !DELETED_REJECTIONS.has(reason))
        await store.copy({
          sourceKey: file.objectKey,
          destinationKey: objectKeys.quarantine(file.tenantId, file.bucketId, file.id),
        });
      // The version itself: on a versioned bucket a plain delete would only hide it.
      await store.delete(file.objectKey, object.versionId ?? undefined);
    } catch (error) {
      // The file is already rejected and its bytes released; the consistency check finds strays.
      this.deps.logger.error('rejected object not removed', { fileId: file.id, error: String(error) });
    }
  }

  /**
   * Removes an object that no pending file is waiting for. On a versioned store only the new
   * version goes, so an accepted file keeps its validated bytes.
   */
  private async removeStray(
    { tenantId, fileId }: { tenantId: string; fileId: string },
    object: CreatedObject,
    file: FileRecord | null,
  ): Promise<ObjectEventOutcome> {
    const store = this.deps.stores.defaultStore();
    await store.delete(object.key, object.versionId ?? undefined);
    this.deps.logger.warn('object no file is waiting for removed', {
      fileId,
      status: file?.status ?? null,
      versioned: object.versionId !== null,
    });
    await this.audit.record(tenantId, {
      type: 'object.removed',
      actor: SYSTEM_ACTOR,
      // The id the key names, whether or not a file by that id exists.
      fileId,
      providerId: DEFAULT_PROVIDER_ID,
      status: 'error',
      details: {
        reason: file ? `file is ${file.status}` : 'no such file',
        objectKey: object.key,
        versionId: object.versionId,
      },
    });
    return { kind: 'removed', key: object.key };
  }

  /** The file as it is now, once another writer settled it; `missing` while it is still pending. */
  private async settled(file: FileRecord): Promise<ArrivalOutcome> {
    const current = await this.deps.metadata.files.get(file.tenantId, file.id);
    return current && current.status !== 'pending' ? { kind: 'settled', file: current } : { kind: 'missing' };
  }
}

/**
 * Whether an event's object is other than the one a settled file accepted. A rejected file
 * accepted none (its object was removed): anything there now is foreign. Records from before
 * validation kept the object, and events without an ETag, cannot tell: they are left alone.
 */
function isForeign(file: FileRecord, object: CreatedObject): boolean {
  if (file.status === 'rejected') return true;
  const accepted = file.validatedObject;
  if (!accepted || !object.etag) return false;
  if (accepted.versionId && object.versionId) return accepted.versionId !== object.versionId;
  return accepted.etag !== object.etag;
}
