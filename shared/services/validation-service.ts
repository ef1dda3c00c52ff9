import { createHash } from 'node:crypto';
import { detectContent, judgeType } from '../domain/content-type-detection.js';
import type { RejectionReason } from '../domain/file-state.js';
import { DEFAULT_PROVIDER_ID } from '../domain/ids.js';
import { objectKeys, parseFileObjectKey } from '../domain/keys.js';
import type { ScanVerdict } from '../domain/malware-scan.js';
import { isMimeAllowed } from '../domain/mime.js';
import { type Bucket, type FileRecord, SYSTEM_ACTOR, type ValidatedObject } from '../domain/model.js';
import { QUARANTINE_TAG } from '../domain/quarantine-tag.js';
import type { ObjectHead, ObjectStore } from '../ports/object-store.js';
import { AuditTrail } from './audit-trail.js';
import type { ServiceDeps } from './service-deps.js';

export type ArrivalOutcome =
  | { kind: 'missing' }
  | { kind: 'settled'; file: FileRecord }
  | { kind: 'active'; file: FileRecord }
  | { kind: 'rejected'; file: FileRecord }
  /** Every other check passed; the declared sha256 is being verified in the background. */
  | { kind: 'verifying'; file: FileRecord }
  /** Every other check passed; the malware scanner has not answered yet (API.md 13.6). */
  | { kind: 'scanning'; file: FileRecord };

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
 * The most a request or a storage event hashes itself to check a declared sha256 that storage
 * did not verify: bigger objects are hashed by the background job, so no request's time grows
 * with the file's size (API.md 13.2).
 */
export const INLINE_CHECKSUM_MAX_BYTES = 8 * 1024 * 1024;
/** How long the background check of one file may take before the sweep asks for it again. */
export const VERIFY_WINDOW_SECONDS = 30 * 60;
/** How long a scan may take before the sweep asks for it again (the scanner may be down). */
export const SCAN_WINDOW_SECONDS = 30 * 60;
/** Asks of a scanner that cannot be reached, in one job, before the file waits for the sweep. */
const SCAN_ATTEMPTS = 3;
const SCAN_RETRY_BASE_MS = 500;
/** CopyObject's limit: a larger object cannot be copied to quarantine in one call. */
const MAX_COPY_BYTES = 5 * 1024 * 1024 * 1024;

/**
 * API.md section 6: what happens when bytes arrive, from the storage event or `complete`.
 * It reads the size (HEAD) and only the first bytes (a ranged GET), so its cost does not grow
 * with the file; each outcome is a conditional transition, so it is idempotent under
 * duplicate and out-of-order events.
 */
export class ValidationService {
  private readonly audit: AuditTrail;
  /** Validations running in this process, by file: `complete` and the storage event share one. */
  private readonly inFlight = new Map<string, Promise<ArrivalOutcome>>();

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

  /**
   * `actor` is the user calling `complete`, or `system` for a storage event. When `complete` and
   * the storage event reach the same process together (the local stack), the second waits for
   * the first's outcome instead of reading the object again; across processes (AWS) each
   * validates and the conditional transition lets one win.
   */
  validateArrival(file: FileRecord, actor: string): Promise<ArrivalOutcome> {
    if (file.status !== 'pending') return Promise.resolve({ kind: 'settled', file });
    const key = `${file.tenantId}/${file.id}`;
    const running = this.inFlight.get(key);
    if (running) return running;
    const validation = this.validatePending(file, actor).finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, validation);
    return validation;
  }

  private async validatePending(file: FileRecord, actor: string): Promise<ArrivalOutcome> {
    // Its other checks passed already: only the scan is asked for again (a lost job, the sweep).
    if (file.scan === 'pending') return this.scanLater(file);
    const started = Date.now();
    const store = await this.deps.stores.forProvider(file.tenantId, file.providerId);
    const head = await store.head(file.objectKey);
    // Gone because a racing event (or `complete`) rejected it meanwhile: answer that file.
    if (!head) return this.settled(file);
    // Every read below is of this object: bytes written after the HEAD fail the read instead.
    const object: ValidatedObject = { etag: head.etag, versionId: head.versionId };
    const bucket = await this.deps.metadata.buckets.get(file.tenantId, file.bucketId);
    const verdict = await this.judge(store, file, bucket, head, object);
    if (verdict.verifyLater) return this.verifyLater(file);
    if (!verdict.reason && scanRequired(bucket)) return this.scanLater(file);
    return this.settle(store, file, verdict, head, object, actor, started);
  }

  /** Hands a file whose only open question is its sha256 to the background job. */
  private async verifyLater(file: FileRecord): Promise<ArrivalOutcome> {
    const until = new Date(this.deps.clock.now().getTime() + VERIFY_WINDOW_SECONDS * 1000).toISOString();
    if (!(await this.deps.metadata.files.markVerifying(file, until))) return this.settled(file);
    // Scheduled again by the sweep once `until` passes, should this one be lost.
    this.deps.checksums?.schedule(file.tenantId, file.id);
    return { kind: 'verifying', file: { ...file, verifying: true, uploadExpiresAt: until } };
  }

  /** Applies a verdict: the conditional transition, the object's removal, the audit event. */
  private async settle(
    store: ObjectStore,
    file: FileRecord,
    verdict: { reason: RejectionReason | null; mimeType: string; detected: string | null },
    head: ObjectHead,
    object: ValidatedObject,
    actor: string,
    started: number,
    scan?: ScanOutcome,
  ): Promise<ArrivalOutcome> {
    const at = this.deps.clock.now().toISOString();
    const latencyMs = Date.now() - started;

    if (verdict.reason) {
      const scanned = scan && scan.status !== 'clean' ? scan.status : undefined;
      const rejected = this.audit.event({
        // API.md 13.6 names the event of an infected file.
        type: scanned === 'infected' ? 'file.infected' : 'upload.rejected',
        actor,
        fileId: file.id,
        providerId: file.providerId,
        status: 'error',
        latencyMs,
        details: {
          reason: verdict.reason,
          size: head.size,
          detectedType: verdict.detected,
          ...(scan ? { scanner: scan.scanner, ...scan.details } : {}),
        },
      });
      const applied = await this.deps.metadata.files.reject(file, verdict.reason, at, scanned, rejected);
      if (!applied) return this.settled(file);
      this.logOutcome(file, 'rejected', latencyMs, verdict.reason);
      await this.removeRejectedObject(store, file, verdict.reason, object, head.size);
      return {
        kind: 'rejected',
        file: {
          ...file,
          status: 'rejected',
          rejectionReason: verdict.reason,
          updatedAt: at,
          verifying: false,
          ...(scanned ? { scan: scanned } : {}),
        },
      };
    }

    const completed = this.audit.event({
      type: 'upload.completed',
      actor,
      fileId: file.id,
      providerId: file.providerId,
      latencyMs,
      details: { size: head.size, mimeType: verdict.mimeType, ...(scan ? { scanner: scan.scanner } : {}) },
    });
    const applied = await this.deps.metadata.files.activate(
      file,
      {
        mimeType: verdict.mimeType,
        sha256: file.sha256,
        validatedObject: object,
        at,
        ...(scan ? { scan: 'clean' as const } : {}),
      },
      completed,
    );
    if (!applied) return this.settled(file);
    this.logOutcome(file, 'active', latencyMs);
    const active: FileRecord = {
      ...file,
      status: 'active',
      mimeType: verdict.mimeType,
      validatedObject: object,
      updatedAt: at,
      uploadExpiresAt: null,
      verifying: false,
      ...(scan ? { scan: 'clean' as const } : {}),
    };
    this.onActive?.(active);
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
      verifyLater: false,
    });
    if (head.size > maxFileSize) return reject('FILE_TOO_LARGE');
    if (head.size !== file.size) return reject('SIZE_MISMATCH');

    const detection = await this.detect(store, file, head, object);
    const detected = detection.mime;
    const type = judgeType(file.declaredMimeType, detection, file.declaredCharset);
    const allowed = bucket?.allowedMimeTypes ?? null;
    // A declaration the bytes bear out counts under the name the bucket was written with.
    if (
      !isMimeAllowed(type.mimeType, allowed) &&
      !(type.declarationHolds && isMimeAllowed(file.declaredMimeType, allowed))
    )
      return reject('MIME_TYPE_NOT_ALLOWED', detected);
    if (type.mismatch) return reject('MIME_TYPE_MISMATCH', detected);

    const verdict = { reason: null, mimeType: type.mimeType, detected, verifyLater: false };
    if (!file.sha256) return verdict;
    const checked = await this.checksumMatches(store, file, head, object);
    if (checked === 'too-big') return { ...verdict, verifyLater: true };
    return checked ? verdict : reject('CHECKSUM_MISMATCH', detected);
  }

  /** The first bytes only, grown where a format needs it, bounded whatever the size (API.md 6). */
  private detect(store: ObjectStore, file: FileRecord, head: ObjectHead, object: ValidatedObject) {
    return detectContent(
      async (length) => (await store.readFirstBytes(file.objectKey, length, object)) ?? new Uint8Array(),
      head.size,
      this.deps.settings.sniffBytes,
    );
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
  ): Promise<boolean | 'too-big'> {
    const expected = Buffer.from(file.sha256 as string, 'hex').toString('base64');
    // A multipart object's checksum is of its parts (`…-N`), never of the whole object.
    if (head.checksumSha256Base64 && !isMultipartEtag(head.etag))
      return head.checksumSha256Base64 === expected;
    if (head.size > INLINE_CHECKSUM_MAX_BYTES && this.deps.checksums) return 'too-big';
    return (await this.hashOf(store, file, object)) === expected;
  }

  /** Base64 SHA-256 of the object, streamed once; null when it is gone. */
  private async hashOf(
    store: ObjectStore,
    file: FileRecord,
    object: ValidatedObject,
  ): Promise<string | null> {
    const body = await store.stream(file.objectKey, object);
    if (!body) return null;
    const hash = createHash('sha256');
    for await (const chunk of body) hash.update(chunk as Buffer);
    return hash.digest('base64');
  }

  /**
   * The background job (API.md 13.2): hashes a verifying file's object, as validation accepted
   * it, and makes the file active or rejected (CHECKSUM_MISMATCH). Runs in its own process or
   * function with its own timeout; a file that is no longer verifying is left alone, so the
   * job may run twice.
   */
  async verifyChecksum(tenantId: string, fileId: string): Promise<ArrivalOutcome | null> {
    const file = await this.deps.metadata.files.get(tenantId, fileId);
    if (!file || file.status !== 'pending' || !file.verifying || !file.sha256) return null;
    const started = Date.now();
    const store = await this.deps.stores.forProvider(file.tenantId, file.providerId);
    const head = await store.head(file.objectKey);
    if (!head) return this.settled(file);
    const object: ValidatedObject = { etag: head.etag, versionId: head.versionId };
    const actual = await this.hashOf(store, file, object);
    const matches = actual === Buffer.from(file.sha256, 'hex').toString('base64');
    // The type was judged before the file was marked verifying; it is detected again, not stored.
    const detection = await this.detect(store, file, head, object);
    const detected = detection.mime;
    const type = judgeType(file.declaredMimeType, detection, file.declaredCharset);
    const verdict = matches
      ? { reason: null, mimeType: type.mimeType, detected, verifyLater: false }
      : { reason: 'CHECKSUM_MISMATCH' as const, mimeType: file.mimeType, detected, verifyLater: false };
    // Both background checks compose: a matching sha256 hands the file on to the scanner.
    if (matches && scanRequired(await this.deps.metadata.buckets.get(file.tenantId, file.bucketId)))
      return this.scanLater(file);
    return this.settle(store, file, verdict, head, object, SYSTEM_ACTOR, started);
  }

  /**
   * Hands a file whose other checks passed to the malware scanner (API.md 13.6): pending with
   * `scan: pending` until it answers. With a job queue the scan runs there; without one (GuardDuty,
   * whose answer is only read) here and now.
   */
  private async scanLater(file: FileRecord): Promise<ArrivalOutcome> {
    const until = new Date(this.deps.clock.now().getTime() + SCAN_WINDOW_SECONDS * 1000).toISOString();
    if (!(await this.deps.metadata.files.markScanning(file, until))) return this.settled(file);
    const scanning: FileRecord = { ...file, verifying: false, scan: 'pending', uploadExpiresAt: until };
    const malware = this.deps.malware;
    if (!malware) {
      // The bucket asked for a scan when a scanner was there: the file waits, it is never let through.
      this.deps.logger.error('malware scan required but no scanner is configured', {
        fileId: file.id,
        alarm: 'MalwareScanUnavailable',
      });
      return { kind: 'scanning', file: scanning };
    }
    // Asked for again by the sweep once `until` passes, should this one be lost.
    if (malware.jobs) {
      malware.jobs.schedule(file.tenantId, file.id);
      return { kind: 'scanning', file: scanning };
    }
    return (await this.scanForMalware(file.tenantId, file.id)) ?? this.settled(file);
  }

  /**
   * The scan job (API.md 13.6): asks the scanner about a file waiting for it, as its object is
   * now, and settles the file by the answer. A scanner that cannot be reached is asked again a
   * few times, then the file stays pending (the sweep asks again later): no answer is never clean.
   */
  async scanForMalware(tenantId: string, fileId: string): Promise<ArrivalOutcome | null> {
    const file = await this.deps.metadata.files.get(tenantId, fileId);
    if (file?.status !== 'pending' || file.scan !== 'pending' || !this.deps.malware) return null;
    const { scanner } = this.deps.malware;
    const started = Date.now();
    const store = await this.deps.stores.forProvider(file.tenantId, file.providerId);
    const head = await store.head(file.objectKey);
    if (!head) return this.settled(file);
    const object: ValidatedObject = { etag: head.etag, versionId: head.versionId };
    let verdict: ScanVerdict | null = null;
    for (let attempt = 1; attempt <= SCAN_ATTEMPTS && !verdict; attempt += 1) {
      try {
        verdict = await scanner.scan({ store, key: file.objectKey, object, size: head.size });
      } catch (error) {
        this.deps.logger.warn('malware scanner did not answer', { fileId, attempt, error: String(error) });
        if (attempt < SCAN_ATTEMPTS) await sleep(SCAN_RETRY_BASE_MS * 2 ** (attempt - 1));
      }
    }
    if (!verdict) {
      this.deps.logger.error('malware scan unavailable; the file stays pending', {
        fileId,
        scanner: scanner.name,
        alarm: 'MalwareScanUnavailable',
      });
      return { kind: 'scanning', file };
    }
    return this.applyScan(file, verdict, { store, head, object, started, scanner: scanner.name });
  }

  /**
   * A verdict that arrived on its own (GuardDuty's scan-result event) for the object `scanned`
   * names. A verdict about another object than the one there now changes nothing; `not-ready`:
   * the file has not reached its scan yet (the event came first), so the caller retries later.
   */
  async settleScan(
    tenantId: string,
    fileId: string,
    verdict: ScanVerdict,
    scanned: { versionId: string | null; etag: string | null; scanner: string },
  ): Promise<ArrivalOutcome | { kind: 'not-ready' } | null> {
    const file = await this.deps.metadata.files.get(tenantId, fileId);
    if (file?.status !== 'pending') return null;
    if (file.scan !== 'pending') return { kind: 'not-ready' };
    const started = Date.now();
    const store = await this.deps.stores.forProvider(file.tenantId, file.providerId);
    const head = await store.head(file.objectKey);
    if (!head) return this.settled(file);
    const sameObject =
      head.versionId && scanned.versionId
        ? head.versionId === scanned.versionId
        : !scanned.etag || !head.etag || unquote(head.etag) === unquote(scanned.etag);
    if (!sameObject) {
      this.deps.logger.warn('scan result for another object than the one stored; ignored', { fileId });
      return null;
    }
    const object: ValidatedObject = { etag: head.etag, versionId: head.versionId };
    return this.applyScan(file, verdict, { store, head, object, started, scanner: scanned.scanner });
  }

  private async applyScan(
    file: FileRecord,
    verdict: ScanVerdict,
    at: { store: ObjectStore; head: ObjectHead; object: ValidatedObject; started: number; scanner: string },
  ): Promise<ArrivalOutcome> {
    const { store, head, object, started, scanner } = at;
    if (verdict.kind === 'pending') return { kind: 'scanning', file };
    // The type was judged before the file was marked for its scan; it is detected again, not stored.
    const detection = await this.detect(store, file, head, object);
    const type = judgeType(file.declaredMimeType, detection);
    const judged = { mimeType: type.mimeType, detected: detection.mime };
    if (verdict.kind === 'clean')
      return this.settle(store, file, { reason: null, ...judged }, head, object, SYSTEM_ACTOR, started, {
        status: 'clean',
        scanner,
      });
    if (verdict.kind === 'infected')
      return this.settle(
        store,
        file,
        { reason: 'MALWARE_DETECTED', ...judged, mimeType: file.mimeType },
        head,
        object,
        SYSTEM_ACTOR,
        started,
        { status: 'infected', scanner, details: { signature: verdict.signature } },
      );
    this.deps.logger.error('malware scanner cannot judge the object; rejected SCAN_FAILED', {
      fileId: file.id,
      scanner,
      reason: verdict.reason,
      alarm: 'MalwareScanFailed',
    });
    return this.settle(
      store,
      file,
      { reason: 'SCAN_FAILED', ...judged, mimeType: file.mimeType },
      head,
      object,
      SYSTEM_ACTOR,
      started,
      { status: 'failed', scanner, details: { scanError: verdict.reason } },
    );
  }

  /**
   * Takes a rejected object out of its place, whatever its size. Quarantine, where asked for: on
   * a versioned store the version is tagged and only hidden (a plain delete leaves it as a
   * noncurrent version, which the bucket policy denies reading and lifecycle expires); elsewhere
   * it is copied to `quarantine/` when one CopyObject can (≤ 5 GB). A quarantine that fails
   * never keeps the object in its place.
   */
  private async removeRejectedObject(
    store: ObjectStore,
    file: FileRecord,
    reason: RejectionReason,
    object: ValidatedObject,
    size: number,
  ): Promise<void> {
    const quarantine = this.deps.settings.quarantineRejected && !DELETED_REJECTIONS.has(reason);
    let hidden = false;
    if (quarantine) hidden = await this.quarantine(store, file, object, size);
    try {
      // A quarantined version stays behind its delete marker; otherwise the version itself goes.
      await store.delete(file.objectKey, hidden ? undefined : (object.versionId ?? undefined));
    } catch (error) {
      // The file is already rejected and its bytes released; the consistency check finds strays.
      this.deps.logger.error('rejected object not removed', { fileId: file.id, error: String(error) });
    }
  }

  /** True when the object's version is kept tagged (to be hidden by a delete marker). */
  private async quarantine(
    store: ObjectStore,
    file: FileRecord,
    object: ValidatedObject,
    size: number,
  ): Promise<boolean> {
    try {
      if (object.versionId) {
        await store.tag({
          key: file.objectKey,
          versionId: object.versionId,
          tags: { [QUARANTINE_TAG.key]: QUARANTINE_TAG.value },
        });
        return true;
      }
      if (size <= MAX_COPY_BYTES)
        await store.copy({
          sourceKey: file.objectKey,
          destinationKey: objectKeys.quarantine(file.tenantId, file.bucketId, file.id),
        });
      else
        this.deps.logger.warn('rejected object too large to copy to quarantine; deleted', {
          fileId: file.id,
          size,
        });
    } catch (error) {
      this.deps.logger.error('rejected object not quarantined; deleted', {
        fileId: file.id,
        error: String(error),
      });
    }
    return false;
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

/** How a scan settled a file: its status, the scanner, and what it said (the signature, the error). */
interface ScanOutcome {
  status: 'clean' | 'infected' | 'failed';
  scanner: string;
  details?: Record<string, unknown>;
}

const scanRequired = (bucket: Bucket | null) => bucket?.malwareScan === 'required';
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));
const unquote = (etag: string) => etag.replace(/^"|"$/g, '');

/**
 * Whether an event's object is other than the one a settled file accepted. A rejected file
 * accepted none (its object was removed): anything there now is foreign. Records from before
 * validation kept the object, and events without an ETag, cannot tell: they are left alone.
 */
/** S3's ETag of a multipart object is `"<md5 of the part md5s>-<parts>"`. */
function isMultipartEtag(etag: string | null): boolean {
  return etag !== null && /-\d+"?$/.test(etag);
}

function isForeign(file: FileRecord, object: CreatedObject): boolean {
  if (file.status === 'rejected') return true;
  const accepted = file.validatedObject;
  if (!accepted || !object.etag) return false;
  if (accepted.versionId && object.versionId) return accepted.versionId !== object.versionId;
  return accepted.etag !== object.etag;
}
