import { createHash } from 'node:crypto';
import { detectMimeType, judgeType } from '../domain/content-type-detection.js';
import type { RejectionReason } from '../domain/file-state.js';
import { DEFAULT_PROVIDER_ID } from '../domain/ids.js';
import { objectKeys, parseFileObjectKey } from '../domain/keys.js';
import { isMimeAllowed } from '../domain/mime.js';
import { type Bucket, type FileRecord, SYSTEM_ACTOR } from '../domain/model.js';
import type { ObjectHead, ObjectStore } from '../ports/object-store.js';
import { AuditTrail } from './audit-trail.js';
import type { ServiceDeps } from './service-deps.js';

export type ArrivalOutcome =
  | { kind: 'missing' }
  | { kind: 'settled'; file: FileRecord }
  | { kind: 'active'; file: FileRecord }
  | { kind: 'rejected'; file: FileRecord };

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
   * A storage event for the deployment's own store: finds the file the key names and validates
   * it. Keys that name no pending file (strays, previews, duplicates, late events) change nothing.
   */
  async onObjectCreated(objectKey: string): Promise<ArrivalOutcome | null> {
    const address = parseFileObjectKey(objectKey);
    if (!address) return null;
    const file = await this.deps.metadata.files.get(address.tenantId, address.fileId);
    if (!file || file.objectKey !== objectKey || file.providerId !== DEFAULT_PROVIDER_ID) return null;
    return this.validateArrival(file, SYSTEM_ACTOR);
  }

  /** `actor` is the user calling `complete`, or `system` for a storage event. */
  async validateArrival(file: FileRecord, actor: string): Promise<ArrivalOutcome> {
    if (file.status !== 'pending') return { kind: 'settled', file };
    const started = Date.now();
    const store = await this.deps.stores.forProvider(file.tenantId, file.providerId);
    const head = await store.head(file.objectKey);
    if (!head) return { kind: 'missing' };
    const bucket = await this.deps.metadata.buckets.get(file.tenantId, file.bucketId);
    const verdict = await this.judge(store, file, bucket, head);
    const at = this.deps.clock.now().toISOString();
    const latencyMs = Date.now() - started;

    if (verdict.reason) {
      const applied = await this.deps.metadata.files.reject(file, verdict.reason, at);
      if (!applied) return this.settled(file);
      this.logOutcome(file, 'rejected', latencyMs, verdict.reason);
      await this.removeRejectedObject(store, file);
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
      at,
    });
    if (!applied) return this.settled(file);
    this.logOutcome(file, 'active', latencyMs);
    this.onActive?.({ ...file, mimeType: verdict.mimeType });
    await this.audit.record(file.tenantId, {
      type: 'upload.completed',
      actor,
      fileId: file.id,
      providerId: file.providerId,
      latencyMs,
      details: { size: head.size, mimeType: verdict.mimeType },
    });
    return {
      kind: 'active',
      file: { ...file, status: 'active', mimeType: verdict.mimeType, updatedAt: at, uploadExpiresAt: null },
    };
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

  private async judge(store: ObjectStore, file: FileRecord, bucket: Bucket | null, head: ObjectHead) {
    const maxFileSize = bucket?.maxFileSize ?? this.deps.settings.maxFileSize;
    const reject = (reason: RejectionReason, detected: string | null = null) => ({
      reason,
      mimeType: file.mimeType,
      detected,
    });
    if (head.size > maxFileSize) return reject('FILE_TOO_LARGE');
    if (head.size !== file.size) return reject('SIZE_MISMATCH');

    const firstBytes =
      (await store.readFirstBytes(file.objectKey, this.deps.settings.sniffBytes)) ?? new Uint8Array();
    const detected = await detectMimeType(firstBytes);
    const type = judgeType(file.declaredMimeType, detected);
    if (!isMimeAllowed(type.mimeType, bucket?.allowedMimeTypes ?? null))
      return reject('MIME_TYPE_NOT_ALLOWED', detected);
    if (type.mismatch) return reject('MIME_TYPE_MISMATCH', detected);

    if (file.sha256 && !(await this.checksumMatches(store, file, head)))
      return reject('CHECKSUM_MISMATCH', detected);
    return { reason: null, mimeType: type.mimeType, detected };
  }

  /**
   * Stores that verify checksums report one on HEAD; where none is reported (the embedded
   * store, or a multipart object's composite checksum) the object is hashed once, streaming.
   */
  private async checksumMatches(store: ObjectStore, file: FileRecord, head: ObjectHead): Promise<boolean> {
    const expected = Buffer.from(file.sha256 as string, 'hex').toString('base64');
    if (head.checksumSha256Base64) return head.checksumSha256Base64 === expected;
    if (!this.deps.settings.verifyChecksumByReading && !file.multipart) return true;
    const body = await store.stream(file.objectKey);
    if (!body) return false;
    const hash = createHash('sha256');
    for await (const chunk of body) hash.update(chunk as Buffer);
    return hash.digest('base64') === expected;
  }

  private async removeRejectedObject(store: ObjectStore, file: FileRecord): Promise<void> {
    try {
      if (this.deps.settings.quarantineRejected)
        await store.copy({
          sourceKey: file.objectKey,
          destinationKey: objectKeys.quarantine(file.tenantId, file.bucketId, file.id),
        });
      await store.delete(file.objectKey);
    } catch (error) {
      // The file is already rejected and its bytes released; the consistency check finds strays.
      this.deps.logger.error('rejected object not removed', { fileId: file.id, error: String(error) });
    }
  }

  private async settled(file: FileRecord): Promise<ArrivalOutcome> {
    const current = await this.deps.metadata.files.get(file.tenantId, file.id);
    return current ? { kind: 'settled', file: current } : { kind: 'missing' };
  }
}
