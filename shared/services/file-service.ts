import { canEditFile, fileAccess, requireRole } from '../domain/access.js';
import { contentDisposition } from '../domain/content-disposition.js';
import { conflict, forbidden, notFound, validationFailed } from '../domain/errors.js';
import { type MetadataFilter, matchesMetadata, normalizeMetadata } from '../domain/file-metadata.js';
import type { FileStatus } from '../domain/file-state.js';
import { partitionOf } from '../domain/file-state.js';
import { normalizeFilename } from '../domain/filename.js';
import { listReadBudget, MAX_ITEMS_READ_PER_LIST } from '../domain/limits.js';
import { mimeMatches, safeResponseContentType } from '../domain/mime.js';
import type { Actor, Bucket, EntityRef, FileRecord, Grant, Page } from '../domain/model.js';
import { AuditTrail } from './audit-trail.js';
import type { FileAccessGuard } from './file-access.js';
import { decodeCursor, encodeCursor } from './paging.js';
import type { PreviewService } from './preview-service.js';
import type { ServiceDeps } from './service-deps.js';
import type { ShareLinkService } from './share-link-service.js';

export interface ListFilesInput {
  bucketId?: string;
  entity?: EntityRef;
  status?: FileStatus;
  mimeType?: string;
  metadata?: MetadataFilter;
  limit: number;
  cursor?: string;
}

/** API.md 13.3: `PATCH /v1/files/{fileId}`, either field or both. */
export interface UpdateFileInput {
  name?: unknown;
  metadata?: unknown;
}

/** A file is renamed while it is pending or active; deleted and rejected ones stay as they were. */
const EDITABLE_STATUSES: readonly FileStatus[] = ['pending', 'active'];

/**
 * The read bound of a list with a metadata filter: for everyone, admins included, since a
 * filter that matches one file of 100,000 would otherwise read them all in one request.
 */
const filteredReadBudget = (actor: Actor, metadata: MetadataFilter | undefined) =>
  metadata ? MAX_ITEMS_READ_PER_LIST : listReadBudget(actor);

/** Reading, downloading, deleting and restoring files (API.md section 7). */
export class FileService {
  private readonly audit: AuditTrail;

  constructor(
    private readonly deps: ServiceDeps,
    private readonly access: FileAccessGuard,
    private readonly previews?: PreviewService,
    private readonly links?: Pick<ShareLinkService, 'killForFile'>,
  ) {
    this.audit = new AuditTrail(deps);
  }

  async get(actor: Actor, fileId: string): Promise<FileRecord> {
    requireRole(actor, 'viewer');
    return (await this.access.visible(actor, fileId)).file;
  }

  async list(actor: Actor, input: ListFilesInput): Promise<Page<FileRecord>> {
    requireRole(actor, 'viewer');
    const canSee = await this.visibilityFilter(actor);
    const maxRead = filteredReadBudget(actor, input.metadata);
    const status = input.status;
    const accept = (file: FileRecord) =>
      (status ? file.status === status : file.status !== 'deleted') &&
      (!input.bucketId || file.bucketId === input.bucketId) &&
      (!input.mimeType || mimeMatches(file.mimeType, input.mimeType)) &&
      matchesMetadata(file.metadata, input.metadata) &&
      canSee(file);
    if (input.entity) {
      const scope = JSON.stringify([
        'files',
        input.bucketId,
        input.status,
        input.mimeType,
        ...(input.metadata ? [[input.metadata.key, input.metadata.value]] : []),
      ]);
      return this.listForEntity(actor.tenantId, input.entity, { ...input, maxRead }, accept, scope);
    }
    return this.deps.metadata.files.list(
      {
        tenantId: actor.tenantId,
        bucketId: input.bucketId,
        partition: partitionOf(status ?? 'active'),
        status,
        mimeType: input.mimeType,
        metadata: input.metadata,
      },
      { limit: input.limit, cursor: input.cursor, maxRead },
      canSee,
    );
  }

  /**
   * Renames a file and/or replaces its metadata (API.md 13.3). The storage key is built from ids
   * and stays; downloads take the new name in their Content-Disposition from now on.
   */
  async update(actor: Actor, fileId: string, input: UpdateFileInput): Promise<FileRecord> {
    requireRole(actor, 'member');
    if (input.name === undefined && input.metadata === undefined)
      throw validationFailed('Give name, metadata or both.');
    const name = input.name === undefined ? undefined : normalizeFilename(input.name);
    const metadata = input.metadata === undefined ? undefined : normalizeMetadata(input.metadata);
    const { file } = await this.access.visible(actor, fileId);
    const grants =
      actor.roles.includes('admin') || file.references.length === 0
        ? []
        : await this.deps.metadata.grants.findForUser(actor.tenantId, actor.userId, file.references);
    if (!canEditFile(actor, file, grants))
      throw forbidden('Only the uploader, an admin or a holder of a write grant may change this file.');
    if (!EDITABLE_STATUSES.includes(file.status))
      throw conflict(`A ${file.status} file cannot be renamed or given metadata.`);
    const at = this.deps.clock.now().toISOString();
    const fields = [...(name === undefined ? [] : ['name']), ...(metadata === undefined ? [] : ['metadata'])];
    const updatedEvent = this.audit.event({
      type: 'file.updated',
      actor: actor.userId,
      fileId,
      providerId: file.providerId,
      details: {
        fields,
        ...(name === undefined ? {} : { previousName: file.originalName, name }),
        ...(metadata === undefined ? {} : { metadataKeys: Object.keys(metadata) }),
      },
    });
    const updated = await this.deps.metadata.files.update(
      file,
      { originalName: name, metadata, at },
      EDITABLE_STATUSES,
      updatedEvent,
    );
    if (!updated) throw conflict('The file changed meanwhile; try again.');
    return updated;
  }

  async download(actor: Actor, fileId: string): Promise<{ url: string; expiresAt: string }> {
    requireRole(actor, 'viewer');
    const { file } = await this.access.visible(actor, fileId);
    if (file.status === 'deleted') throw notFound('The file');
    if (file.status !== 'active') throw conflict(`The file is ${file.status} and cannot be downloaded.`);
    const ttl = this.deps.settings.downloadUrlTtlSeconds;
    const store = await this.deps.stores.forProvider(actor.tenantId, file.providerId);
    const url = await store.presignGet({
      key: file.objectKey,
      // The bytes validation accepted, where the store keeps versions (API.md 13.1).
      versionId: file.validatedObject?.versionId,
      expiresInSeconds: ttl,
      responseContentType: safeResponseContentType(file.mimeType, file.declaredCharset),
      responseContentDisposition: contentDisposition(file.originalName),
    });
    const expiresAt = new Date(this.deps.clock.now().getTime() + ttl * 1000).toISOString();
    await this.audit.record(actor.tenantId, {
      type: 'file.downloaded',
      actor: actor.userId,
      fileId,
      providerId: file.providerId,
    });
    return { url, expiresAt };
  }

  async delete(actor: Actor, fileId: string): Promise<void> {
    requireRole(actor, 'member');
    const { file } = await this.access.changeable(actor, fileId);
    if (file.status === 'deleted') return;
    if (file.status === 'pending') throw conflict('A pending upload cannot be deleted; abandon it instead.');
    if (file.status === 'rejected') return this.removeRejected(actor, file);
    await this.softDelete(file, actor.userId);
  }

  /** active → deleted; shared with entity deletion of buckets that delete unreferenced files. */
  async softDelete(file: FileRecord, actor: string): Promise<boolean> {
    const deleted = this.audit.event({
      type: 'file.deleted',
      actor,
      fileId: file.id,
      providerId: file.providerId,
    });
    const applied = await this.deps.metadata.files.softDelete(
      file,
      this.deps.clock.now().toISOString(),
      deleted,
    );
    if (!applied) return false;
    // Its share links die with it (API.md 13.4). Downloads check the file's status anyway, so a
    // failure here only matters if the file is restored; it is logged.
    try {
      await this.links?.killForFile(file.tenantId, file.id);
    } catch (error) {
      this.deps.logger.error('share links of a deleted file not revoked', {
        fileId: file.id,
        error: String(error),
      });
    }
    // A deleted file has no preview (a restore renders it again); the purge retries a failure here.
    try {
      await this.previews?.dropForFile(file.tenantId, file.id);
    } catch (error) {
      this.deps.logger.error('previews of a deleted file not dropped', {
        fileId: file.id,
        error: String(error),
      });
    }
    return true;
  }

  async restore(actor: Actor, fileId: string): Promise<FileRecord> {
    requireRole(actor, 'member');
    const { file } = await this.access.changeable(actor, fileId);
    if (file.status !== 'deleted')
      throw conflict(`Only a deleted file can be restored; this one is ${file.status}.`);
    const at = this.deps.clock.now().toISOString();
    const restored = this.audit.event({
      type: 'file.restored',
      actor: actor.userId,
      fileId,
      providerId: file.providerId,
    });
    if (!(await this.deps.metadata.files.restore(file, at, restored))) {
      // The condition failed: another writer moved the file, or this very write landed and only
      // its answer was lost (the SDK retried it). Active now is the outcome asked for.
      const now = await this.deps.metadata.files.get(actor.tenantId, fileId);
      if (now?.status === 'active') return now;
      throw conflict('The file changed meanwhile; try again.');
    }
    this.previews?.scheduleAhead(file);
    const { previewStatus: _dropped, ...rest } = file;
    return { ...rest, status: 'active', deletedAt: null, updatedAt: at };
  }

  /** A predicate of what the caller may see, with the caller's grants read once. */
  async visibilityFilter(actor: Actor): Promise<(file: FileRecord) => boolean> {
    if (actor.roles.includes('admin')) return () => true;
    const [grants, restrictedBuckets] = await Promise.all([
      this.deps.metadata.grants.listForUser(actor.tenantId, actor.userId),
      this.restrictedBucketIds(actor.tenantId),
    ]);
    return (file) =>
      fileAccess(actor, file, { restricted: restrictedBuckets.has(file.bucketId) }, grants as Grant[]).see;
  }

  private async restrictedBucketIds(tenantId: string): Promise<Set<string>> {
    const ids = new Set<string>();
    let cursor: string | undefined;
    do {
      const page: Page<Bucket> = await this.deps.metadata.buckets.list(tenantId, { limit: 1000, cursor });
      for (const b of page.items) if (b.restricted) ids.add(b.id);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return ids;
  }

  /**
   * Files referenced by an entity, newest first. References are read in chunks and files
   * filtered here, so the cursor is the last file id handed out, or, once `maxRead` references
   * were read without filling the page, the last one read.
   */
  async listForEntity(
    tenantId: string,
    entity: EntityRef,
    page: { limit: number; cursor?: string; maxRead?: number },
    accept: (file: FileRecord) => boolean,
    /** Names the route and filters, so a cursor is valid only with the same query. */
    query: string,
  ): Promise<Page<FileRecord>> {
    const scope = JSON.stringify([tenantId, entity.entityType, entity.entityId, query]);
    const items: FileRecord[] = [];
    let after = page.cursor ? decodeCursor(scope, page.cursor) : undefined;
    let budget = page.maxRead ?? Number.POSITIVE_INFINITY;
    for (;;) {
      const chunk = Math.min(Math.max(page.limit + 1, 25), 100, budget);
      const ids = await this.deps.metadata.references.listFileIds(tenantId, entity, {
        limit: chunk,
        afterFileId: after,
      });
      budget -= ids.length;
      const files = await this.deps.metadata.files.getMany(tenantId, ids);
      for (const file of files) {
        if (!accept(file)) continue;
        items.push(file);
        if (items.length > page.limit) {
          const shown = items.slice(0, page.limit);
          const last = shown[shown.length - 1] as FileRecord;
          return { items: shown, nextCursor: encodeCursor(scope, last.id) };
        }
      }
      if (ids.length < chunk) return { items, nextCursor: null };
      after = ids.at(-1) as string;
      if (budget <= 0) return { items, nextCursor: encodeCursor(scope, after) };
    }
  }

  private async removeRejected(actor: Actor, file: FileRecord): Promise<void> {
    // References first: a rejected file never changes again, and once its record is gone nothing
    // would remember them (if this fails, the record stays and the client's retry finishes).
    await this.deps.metadata.references.removeAllForFile(file.tenantId, file.id, file.references);
    const deleted = this.audit.event({
      type: 'file.deleted',
      actor: actor.userId,
      fileId: file.id,
      providerId: file.providerId,
      details: { status: 'rejected' },
    });
    await this.deps.metadata.files.removeRejected(file, deleted);
  }
}
