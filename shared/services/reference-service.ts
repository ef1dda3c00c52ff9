import { hasRole, requireRole } from '../domain/access.js';
import { conflict, forbidden } from '../domain/errors.js';
import { type MetadataFilter, matchesMetadata } from '../domain/file-metadata.js';
import { listReadBudget, MAX_ITEMS_READ_PER_LIST } from '../domain/limits.js';
import type { Actor, EntityRef, FileRecord, Grant, Page } from '../domain/model.js';
import { ReferenceLimitError } from '../ports/repositories.js';
import { AuditTrail } from './audit-trail.js';
import type { FileAccessGuard } from './file-access.js';
import type { FileService } from './file-service.js';
import type { ServiceDeps } from './service-deps.js';

/** References from files to business entities, entity deletion, and grants (API.md section 8). */
export class ReferenceService {
  private readonly audit: AuditTrail;

  constructor(
    private readonly deps: ServiceDeps,
    private readonly access: FileAccessGuard,
    private readonly files: FileService,
  ) {
    this.audit = new AuditTrail(deps);
  }

  async add(actor: Actor, fileId: string, ref: EntityRef): Promise<void> {
    requireRole(actor, 'member');
    const { file } = await this.access.changeable(actor, fileId);
    if (file.status !== 'active' && file.status !== 'pending')
      throw conflict(`A ${file.status} file cannot be referenced.`);
    if (file.references.some((r) => r.entityType === ref.entityType && r.entityId === ref.entityId)) return;
    const at = this.deps.clock.now().toISOString();
    let added: boolean;
    try {
      added = await this.deps.metadata.references.add(actor.tenantId, fileId, ref, at);
    } catch (error) {
      if (!(error instanceof ReferenceLimitError)) throw error;
      throw conflict(`A file can have at most ${error.limit} references; remove one first.`, {
        maxReferences: error.limit,
      });
    }
    if (!added) throw conflict('The file changed meanwhile and cannot be referenced.');
    await this.audit.record(actor.tenantId, {
      type: 'reference.added',
      actor: actor.userId,
      fileId,
      details: { ...ref },
    });
  }

  async remove(actor: Actor, fileId: string, ref: EntityRef): Promise<void> {
    requireRole(actor, 'member');
    const { file } = await this.access.changeable(actor, fileId);
    if (!file.references.some((r) => r.entityType === ref.entityType && r.entityId === ref.entityId)) return;
    await this.deps.metadata.references.remove(actor.tenantId, fileId, ref);
    await this.audit.record(actor.tenantId, {
      type: 'reference.removed',
      actor: actor.userId,
      fileId,
      details: { ...ref },
    });
  }

  async listEntityFiles(
    actor: Actor,
    entity: EntityRef,
    page: { limit: number; cursor?: string },
    metadata?: MetadataFilter,
  ) {
    requireRole(actor, 'viewer');
    const canSee = await this.files.visibilityFilter(actor);
    return this.files.listForEntity(
      actor.tenantId,
      entity,
      // A metadata filter bounds admins' reading too (file-service.ts says why).
      { ...page, maxRead: metadata ? MAX_ITEMS_READ_PER_LIST : listReadBudget(actor) },
      (f) => f.status !== 'deleted' && matchesMetadata(f.metadata, metadata) && canSee(f),
      metadata ? JSON.stringify(['entity-files', metadata.key, metadata.value]) : 'entity-files',
    );
  }

  /**
   * The host app deleted an entity: every reference to it goes, and its grants. A file left
   * with no reference in a bucket that deletes unreferenced files is soft-deleted.
   */
  async deleteEntity(actor: Actor, entity: EntityRef): Promise<{ removed: number }> {
    requireRole(actor, 'member');
    if (!hasRole(actor, 'admin')) {
      const grants = await this.deps.metadata.grants.findForUser(actor.tenantId, actor.userId, [entity]);
      if (!grants.some((g) => g.access === 'write'))
        throw forbidden('Deleting an entity needs the admin role or a write grant on it.');
    }
    let removed = 0;
    const bucketRules = new Map<string, boolean>();
    for (;;) {
      const ids = await this.deps.metadata.references.listFileIds(actor.tenantId, entity, { limit: 100 });
      if (ids.length === 0) break;
      for (const fileId of ids) {
        await this.deps.metadata.references.remove(actor.tenantId, fileId, entity);
        removed += 1;
      }
      const files = await this.deps.metadata.files.getMany(actor.tenantId, ids);
      for (const file of files) await this.deleteIfUnreferenced(file, bucketRules);
    }
    await this.deps.metadata.grants.deleteAllForEntity(actor.tenantId, entity);
    await this.audit.record(actor.tenantId, {
      type: 'entity.deleted',
      actor: actor.userId,
      details: { ...entity, removed },
    });
    return { removed };
  }

  async setGrant(actor: Actor, entity: EntityRef, userId: string, access: Grant['access']): Promise<void> {
    requireRole(actor, 'admin');
    const now = this.deps.clock.now().toISOString();
    await this.deps.metadata.grants.put(actor.tenantId, {
      ...entity,
      userId,
      access,
      createdAt: now,
      updatedAt: now,
    });
    await this.audit.record(actor.tenantId, {
      type: 'grant.set',
      actor: actor.userId,
      details: { ...entity, userId, access },
    });
  }

  async removeGrant(actor: Actor, entity: EntityRef, userId: string): Promise<void> {
    requireRole(actor, 'admin');
    if (await this.deps.metadata.grants.delete(actor.tenantId, entity, userId))
      await this.audit.record(actor.tenantId, {
        type: 'grant.removed',
        actor: actor.userId,
        details: { ...entity, userId },
      });
  }

  async listGrants(
    actor: Actor,
    entity: EntityRef,
    page: { limit: number; cursor?: string },
  ): Promise<Page<Grant>> {
    requireRole(actor, 'admin');
    return this.deps.metadata.grants.listForEntity(actor.tenantId, entity, page);
  }

  private async deleteIfUnreferenced(file: FileRecord, bucketRules: Map<string, boolean>): Promise<void> {
    if (file.status !== 'active' || file.references.length > 0) return;
    let deleteUnreferenced = bucketRules.get(file.bucketId);
    if (deleteUnreferenced === undefined) {
      const bucket = await this.deps.metadata.buckets.get(file.tenantId, file.bucketId);
      deleteUnreferenced = bucket?.deleteUnreferenced ?? false;
      bucketRules.set(file.bucketId, deleteUnreferenced);
    }
    if (deleteUnreferenced) await this.files.softDelete(file, 'system');
  }
}
