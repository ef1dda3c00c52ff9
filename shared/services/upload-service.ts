import { requireRole } from '../domain/access.js';
import { contentDisposition } from '../domain/content-disposition.js';
import {
  conflict,
  fileTooLarge,
  forbidden,
  mimeTypeNotAllowed,
  notFound,
  quotaExceeded,
  validationFailed,
} from '../domain/errors.js';
import { normalizeFilename } from '../domain/filename.js';
import { objectKeys } from '../domain/keys.js';
import {
  declaredCharset,
  isMimeAllowed,
  normalizeMimeType,
  safeResponseContentType,
} from '../domain/mime.js';
import {
  type Actor,
  type EntityRef,
  type FileRecord,
  type MultipartState,
  SYSTEM_ACTOR,
} from '../domain/model.js';
import { committedBytes } from '../domain/quota.js';
import { isTextFormat } from '../domain/text-content.js';
import { extendedDeadline, partLength, uploadDeadline } from '../domain/upload-window.js';
import {
  type CompletedPart,
  InvalidPartsError,
  NoSuchUploadError,
  ObjectChangedError,
  type ObjectStore,
} from '../ports/object-store.js';
import { NotFoundError, QuotaExceededError } from '../ports/repositories.js';
import { AuditTrail } from './audit-trail.js';
import type { BucketService } from './bucket-service.js';
import type { FileAccessGuard } from './file-access.js';
import { removeRecord } from './remove-record.js';
import type { ServiceDeps } from './service-deps.js';
import type { ValidationService } from './validation-service.js';

export interface InitiateUploadInput {
  filename: string;
  contentType: string;
  size: number;
  sha256?: string;
  references?: EntityRef[];
  multipart?: boolean;
  /**
   * Hex SHA-256 of the first parts of a multipart upload (as many as the client wants URLs for
   * now). Given, even empty, the upload verifies every part in storage: each later part URL is
   * asked for with its part's SHA-256 too.
   */
  partSha256?: string[];
  /** PUT (default) or a presigned POST form. */
  uploadMethod?: 'PUT' | 'POST';
}

export type UploadInstructions =
  | { method: 'PUT'; url: string; headers: Record<string, string>; expiresAt: string }
  | { method: 'POST'; url: string; fields: Record<string, string>; expiresAt: string }
  | {
      method: 'MULTIPART';
      uploadId: string;
      partSize: number;
      partCount: number;
      /** URLs for the first parts only; the rest come from `partUrls`. */
      parts: PartUrl[];
      expiresAt: string;
    };

/** One part's URL, bound to its exact length (and checksum, sent as `headers`). */
export interface PartUrl {
  partNumber: number;
  url: string;
  size: number;
  headers: Record<string, string>;
}

/** What storage holds of a pending multipart upload (API.md 13.2), to resume it. */
export interface UploadProgress {
  uploadId: string;
  partSize: number;
  partCount: number;
  uploaded: { partNumber: number; etag: string; size: number }[];
  expiresAt: string | null;
}

const MiB = 1024 * 1024;
const MAX_PARTS = 10_000;
const MAX_INITIAL_REFERENCES = 50;
/** Part URLs an initiation answers with: enough for a browser's parallel parts, and a few ahead. */
export const INITIAL_PART_URLS = 8;
/** Part URLs one request may ask for (API.md 13.2). */
export const MAX_PART_URLS_PER_REQUEST = 100;

/** Upload initiation, completion and abandonment (API.md section 5). */
export class UploadService {
  private readonly audit: AuditTrail;

  constructor(
    private readonly deps: ServiceDeps,
    private readonly buckets: BucketService,
    private readonly access: FileAccessGuard,
    private readonly validation: ValidationService,
  ) {
    this.audit = new AuditTrail(deps);
  }

  async initiate(
    actor: Actor,
    bucketId: string,
    input: InitiateUploadInput,
  ): Promise<{ file: FileRecord; upload: UploadInstructions }> {
    requireRole(actor, 'member');
    // 400s first, then 404, then the bucket's rules, then the quota (API.md section 0).
    const originalName = normalizeFilename(input.filename);
    const declared = normalizeMimeType(input.contentType);
    const charset = declaredCharset(input.contentType, isTextFormat(declared));
    const references = dedupeReferences(input.references ?? []);
    if (references.length > MAX_INITIAL_REFERENCES)
      throw validationFailed(`At most ${MAX_INITIAL_REFERENCES} references may be given with an upload.`);
    const bucket = await this.buckets.require(actor.tenantId, bucketId);
    if (!isMimeAllowed(declared, bucket.allowedMimeTypes))
      throw mimeTypeNotAllowed(declared, bucket.allowedMimeTypes ?? []);
    if (input.size > bucket.maxFileSize) throw fileTooLarge(input.size, bucket.maxFileSize);

    const { settings } = this.deps;
    // Parts are signed with their length: a "multipart" upload smaller than one part is a PUT.
    if (input.multipart === true && input.size < settings.minPartSize)
      throw validationFailed(
        `multipart needs a file of at least the minimum part size (${settings.minPartSize} bytes).`,
      );
    const multipart = input.multipart === true || input.size > settings.multipartThreshold;
    const partSize = multipart ? this.partSizeFor(input.size) : 0;
    if (input.partSha256 && !multipart)
      throw validationFailed('partSha256 is for multipart uploads; give sha256 for a single upload.');
    const partCount = multipart ? Math.max(1, Math.ceil(input.size / partSize)) : 0;
    if (input.partSha256 && input.partSha256.length > Math.min(partCount, MAX_PART_URLS_PER_REQUEST))
      throw validationFailed(`partSha256 lists more parts than the ${partCount} of this upload.`);
    const now = this.deps.clock.now();
    const urlTtl = multipart ? settings.partUrlTtlSeconds : settings.uploadUrlTtlSeconds;
    const expiresAt = new Date(now.getTime() + urlTtl * 1000).toISOString();
    const fileId = this.deps.ids.next();
    const file: FileRecord = {
      id: fileId,
      tenantId: actor.tenantId,
      bucketId: bucket.id,
      providerId: bucket.providerId,
      originalName,
      mimeType: declared,
      declaredMimeType: declared,
      ...(charset ? { declaredCharset: charset } : {}),
      size: input.size,
      sha256: input.sha256?.toLowerCase() ?? null,
      status: 'pending',
      rejectionReason: null,
      uploadedBy: actor.userId,
      createdAt: now.toISOString(),
      updatedAt: now.toISOString(),
      deletedAt: null,
      uploadExpiresAt: uploadDeadline(now, urlTtl, input.size).toISOString(),
      multipart: null,
      references,
      objectKey: objectKeys.file(actor.tenantId, bucket.id, fileId),
      validatedObject: null,
    };

    const method = multipart ? 'MULTIPART' : (input.uploadMethod ?? 'PUT');
    const initiated = this.audit.event({
      type: 'upload.initiated',
      actor: actor.userId,
      fileId,
      providerId: bucket.providerId,
      details: { bucketId: bucket.id, size: input.size, contentType: declared, method },
    });
    try {
      // File, quota, bucket count, references and the event: one transaction.
      await this.deps.metadata.files.createPending(file, initiated);
    } catch (error) {
      if (error instanceof QuotaExceededError)
        throw quotaExceeded({
          limitBytes: error.quota.limitBytes ?? 0,
          committedBytes: committedBytes(error.quota),
          requestedBytes: input.size,
        });
      // The bucket was deleted after it was read: nothing was written.
      if (error instanceof NotFoundError) throw notFound('The bucket');
      throw error;
    }

    // The reservation is made; if storage fails now, give it back so nothing half-made stays.
    let upload: UploadInstructions;
    let uploadId: string | undefined;
    try {
      const store = await this.deps.stores.forProvider(actor.tenantId, bucket.providerId);
      if (multipart) {
        const partChecksums = input.partSha256 !== undefined;
        ({ uploadId } = await store.createMultipartUpload({
          key: file.objectKey,
          ...storedHeaders(file),
          partChecksums,
        }));
        file.multipart = { uploadId, partSize, partCount, ...(partChecksums ? { partChecksums } : {}) };
        await this.deps.metadata.files.setMultipart(file, file.multipart);
        // With part checksums, URLs only for the parts whose SHA-256 came with the request.
        const first = input.partSha256
          ? input.partSha256.map((sha256, i) => ({ partNumber: i + 1, sha256 }))
          : Array.from({ length: Math.min(partCount, INITIAL_PART_URLS) }, (_, i) => ({ partNumber: i + 1 }));
        upload = {
          method: 'MULTIPART',
          uploadId,
          partSize,
          partCount,
          parts: await this.presignParts(store, file, file.multipart, first),
          expiresAt,
        };
      } else {
        upload = await this.presignSingle(store, file, input.uploadMethod ?? 'PUT', expiresAt);
      }
    } catch (error) {
      // The initiation was told (its event committed with the file), so its end is told too.
      const abandoned = this.audit.event({
        type: 'upload.abandoned',
        actor: SYSTEM_ACTOR,
        fileId,
        providerId: bucket.providerId,
        status: 'error',
        details: { size: file.size, reason: 'storage-failed' },
      });
      await this.deps.metadata.files.abandon(file, abandoned).catch(() => false);
      // createPending also wrote the references, as items of their own: without this they would
      // outlive the record. Removing them is harmless if the abandon failed (the sweep does it).
      if (references.length > 0)
        await this.deps.metadata.references
          .removeAllForFile(actor.tenantId, fileId, references)
          .catch(() => undefined);
      if (uploadId) await this.abortQuietly(bucket.providerId, file, uploadId);
      throw error;
    }

    return { file, upload };
  }

  async complete(actor: Actor, fileId: string, parts: CompletedPart[] | undefined): Promise<FileRecord> {
    requireRole(actor, 'member');
    const { file } = await this.access.changeable(actor, fileId);
    if (file.status === 'active' || file.status === 'rejected') return file;
    // Already complete; the background check of its sha256 settles it.
    if (file.status === 'pending' && (file.verifying || file.scan === 'pending')) return file;
    if (file.status !== 'pending')
      throw conflict(`The file is ${file.status}, not pending.`, { status: file.status });

    const { multipart } = file;
    if (multipart) {
      if (!parts || parts.length === 0)
        throw validationFailed('parts must list every uploaded part with its ETag for a multipart upload.');
      if (parts.length > multipart.partCount || parts.some((p) => p.partNumber > multipart.partCount))
        throw validationFailed(`This upload has ${multipart.partCount} parts.`);
      await this.completeMultipart(file, multipart, parts);
    }

    const outcome = await this.validation.validateArrival(file, actor.userId).catch((error: unknown) => {
      // Its object was replaced between the HEAD and a read: what was judged is not what is there.
      if (error instanceof ObjectChangedError)
        throw conflict('The upload changed while it was being checked; complete it again.');
      throw error;
    });
    if (outcome.kind === 'missing') throw conflict('The bytes of this upload have not arrived yet.');
    // Pending with `verifying: true`: its sha256 is checked in the background (API.md 13.2).
    if (outcome.kind === 'verifying' || outcome.kind === 'scanning') return outcome.file;
    if (outcome.file.status === 'pending') throw conflict('The upload is still being processed.');
    return outcome.file;
  }

  /**
   * Fresh URLs for parts of a pending multipart upload (API.md 13.2), at any time before it
   * expires. Each request also moves the upload's expiry later, to when the remaining parts
   * could arrive over a slow line (up to a ceiling), so the sweep leaves an upload alone while
   * its parts still come.
   */
  async partUrls(
    actor: Actor,
    fileId: string,
    input: { partNumbers: number[]; partSha256?: string[] },
  ): Promise<{ parts: PartUrl[]; expiresAt: string }> {
    requireRole(actor, 'member');
    const { file, multipart } = await this.pendingMultipart(actor, fileId);
    const numbers = input.partNumbers;
    const outside = numbers.find((n) => n > multipart.partCount);
    if (outside !== undefined)
      throw validationFailed(`This upload has ${multipart.partCount} parts; there is no part ${outside}.`);
    if (new Set(numbers).size !== numbers.length) throw validationFailed('partNumbers lists a part twice.');
    if (multipart.partChecksums && input.partSha256?.length !== numbers.length)
      throw validationFailed(
        'This upload verifies every part: give partSha256, one for each of partNumbers.',
      );
    if (!multipart.partChecksums && input.partSha256)
      throw validationFailed('This upload was started without part checksums; leave out partSha256.');

    const now = this.deps.clock.now();
    const { partUrlTtlSeconds } = this.deps.settings;
    const remaining = file.size - (Math.min(...numbers) - 1) * multipart.partSize;
    const until = extendedDeadline(new Date(file.createdAt), now, partUrlTtlSeconds, remaining);
    if (file.uploadExpiresAt && until.toISOString() > file.uploadExpiresAt)
      await this.deps.metadata.files.extendUpload(file, until.toISOString());
    const store = await this.deps.stores.forProvider(file.tenantId, file.providerId);
    const parts = await this.presignParts(
      store,
      file,
      multipart,
      numbers.map((partNumber, i) => ({ partNumber, sha256: input.partSha256?.[i] })),
    );
    return { parts, expiresAt: new Date(now.getTime() + partUrlTtlSeconds * 1000).toISOString() };
  }

  /** What storage already holds of a pending multipart upload, so a client sends only the rest. */
  async progress(actor: Actor, fileId: string): Promise<UploadProgress> {
    const { file, multipart } = await this.pendingMultipart(actor, fileId);
    const store = await this.deps.stores.forProvider(file.tenantId, file.providerId);
    const stored = await store
      .listParts({ key: file.objectKey, uploadId: multipart.uploadId })
      .catch((error) => {
        if (error instanceof NoSuchUploadError) throw conflict('The multipart upload no longer exists.');
        throw error;
      });
    return {
      uploadId: multipart.uploadId,
      partSize: multipart.partSize,
      partCount: multipart.partCount,
      uploaded: stored
        .filter((part) => part.partNumber <= multipart.partCount)
        .map(({ partNumber, etag, size }) => ({ partNumber, etag, size })),
      expiresAt: file.uploadExpiresAt,
    };
  }

  /** The uploader's (or an admin's) pending multipart upload; 409 for any other file. */
  private async pendingMultipart(actor: Actor, fileId: string) {
    const { file } = await this.access.changeable(actor, fileId);
    if (file.uploadedBy !== actor.userId && !actor.roles.includes('admin'))
      throw forbidden('Only the uploader or an admin may continue this upload.');
    if (file.status !== 'pending' || !file.multipart)
      throw conflict(
        file.status === 'pending'
          ? 'The file is a single upload, not a multipart one.'
          : `The file is ${file.status}, not a pending multipart upload.`,
        { status: file.status },
      );
    if (file.verifying) throw conflict('The upload is complete; its checksum is being verified.');
    if (file.scan === 'pending') throw conflict('The upload is complete; it is being scanned for malware.');
    return { file, multipart: file.multipart };
  }

  async abandon(actor: Actor, fileId: string): Promise<void> {
    requireRole(actor, 'member');
    const { file } = await this.access.changeable(actor, fileId);
    if (file.status !== 'pending')
      throw conflict(`Only a pending upload can be abandoned; this file is ${file.status}.`);
    await this.discardPending(file, actor.userId);
  }

  /** Removes a pending upload's record, bytes and reservation; shared with the maintenance sweep. */
  async discardPending(file: FileRecord, actor: string): Promise<boolean> {
    const { metadata } = this.deps;
    const abandoned = this.audit.event({
      type: 'upload.abandoned',
      actor,
      fileId: file.id,
      providerId: file.providerId,
      details: { size: file.size },
    });
    if (!(await removeRecord(metadata, file, (f) => metadata.files.abandon(f, abandoned)))) return false;
    if (file.multipart) await this.abortQuietly(file.providerId, file, file.multipart.uploadId);
    const store = await this.deps.stores.forProvider(file.tenantId, file.providerId);
    // With the record gone nothing else remembers these: one failing must not skip the other.
    const cleanup = await Promise.allSettled([
      store.delete(file.objectKey),
      metadata.references.removeAllForFile(file.tenantId, file.id, file.references),
    ]);
    for (const step of cleanup) if (step.status === 'rejected') throw step.reason;
    return true;
  }

  private async abortQuietly(providerId: string, file: FileRecord, uploadId: string): Promise<void> {
    try {
      const store = await this.deps.stores.forProvider(file.tenantId, providerId);
      await store.abortMultipartUpload({ key: file.objectKey, uploadId });
    } catch (error) {
      // Storage's own lifecycle rule aborts incomplete multipart uploads after a day.
      this.deps.logger.warn('multipart upload not aborted', { fileId: file.id, error: String(error) });
    }
  }

  private partSizeFor(size: number): number {
    const { minPartSize } = this.deps.settings;
    const needed = Math.ceil(size / MAX_PARTS);
    const partSize = Math.max(minPartSize, Math.ceil(needed / MiB) * MiB);
    if (Math.ceil(size / partSize) > MAX_PARTS)
      throw validationFailed('The file needs more than 10000 parts.');
    return partSize;
  }

  private async presignSingle(
    store: ObjectStore,
    file: FileRecord,
    method: 'PUT' | 'POST',
    expiresAt: string,
  ): Promise<UploadInstructions> {
    const input = {
      key: file.objectKey,
      ...storedHeaders(file),
      contentLength: file.size,
      checksumSha256Base64: file.sha256 ? Buffer.from(file.sha256, 'hex').toString('base64') : undefined,
      expiresInSeconds: this.deps.settings.uploadUrlTtlSeconds,
    };
    if (method === 'POST') {
      const post = await store.presignPost(input);
      return { method: 'POST', url: post.url, fields: post.fields, expiresAt };
    }
    const put = await store.presignPut(input);
    return { method: 'PUT', url: put.url, headers: put.headers, expiresAt };
  }

  /** Fresh URLs for parts of `multipart`, each signing its exact length (and SHA-256 when given). */
  private presignParts(
    store: ObjectStore,
    file: FileRecord,
    multipart: MultipartState,
    parts: { partNumber: number; sha256?: string }[],
  ): Promise<PartUrl[]> {
    return Promise.all(
      parts.map(async ({ partNumber, sha256 }) => {
        const size = partLength(file.size, multipart.partSize, partNumber);
        const signed = await store.presignUploadPart({
          key: file.objectKey,
          uploadId: multipart.uploadId,
          partNumber,
          contentLength: size,
          checksumSha256Base64: sha256 ? Buffer.from(sha256, 'hex').toString('base64') : undefined,
          expiresInSeconds: this.deps.settings.partUrlTtlSeconds,
        });
        return { partNumber, url: signed.url, size, headers: signed.headers };
      }),
    );
  }

  private async completeMultipart(
    file: FileRecord,
    multipart: MultipartState,
    parts: CompletedPart[],
  ): Promise<void> {
    const store = await this.deps.stores.forProvider(file.tenantId, file.providerId);
    try {
      await store.completeMultipartUpload({
        key: file.objectKey,
        uploadId: multipart.uploadId,
        parts,
        partChecksums: multipart.partChecksums === true,
      });
    } catch (error) {
      if (error instanceof InvalidPartsError)
        throw validationFailed('The parts do not match what was uploaded.', { reason: error.message });
      // Something wrote the key besides this upload's parts; validate what is there.
      if (error instanceof ObjectChangedError) return;
      // Already completed by an earlier call (whose validation did not finish): validate what is there.
      if (error instanceof NoSuchUploadError && (await store.head(file.objectKey))) return;
      if (error instanceof NoSuchUploadError) throw conflict('The multipart upload no longer exists.');
      throw error;
    }
  }
}

/**
 * The type and disposition written with the object: a store that ignores a download's overrides
 * (moto does) still serves it as an attachment, never as active content.
 */
function storedHeaders(file: FileRecord) {
  return {
    contentType: safeResponseContentType(file.declaredMimeType, file.declaredCharset),
    contentDisposition: contentDisposition(file.originalName),
  };
}

function dedupeReferences(refs: EntityRef[]): EntityRef[] {
  const seen = new Map<string, EntityRef>();
  for (const ref of refs) seen.set(`${ref.entityType}#${ref.entityId}`, ref);
  return [...seen.values()];
}
