import { fileAccess } from '../domain/access.js';
import { forbidden, notFound } from '../domain/errors.js';
import type { Actor, Bucket, FileRecord } from '../domain/model.js';
import type { ServiceDeps } from './service-deps.js';

export interface AccessibleFile {
  file: FileRecord;
  bucket: Bucket | null;
  canChange: boolean;
}

/**
 * Loads a file for a caller and applies API.md section 8: a file one may not see is 404 (the
 * same answer as another tenant's file), one seen but not changeable is 403.
 */
export class FileAccessGuard {
  constructor(private readonly deps: Pick<ServiceDeps, 'metadata'>) {}

  async visible(actor: Actor, fileId: string): Promise<AccessibleFile> {
    const file = await this.deps.metadata.files.get(actor.tenantId, fileId);
    if (!file) throw notFound('The file');
    const bucket = await this.deps.metadata.buckets.get(actor.tenantId, file.bucketId);
    const access = await this.decide(actor, file, bucket);
    if (!access.see) throw notFound('The file');
    return { file, bucket, canChange: access.change };
  }

  async changeable(actor: Actor, fileId: string): Promise<AccessibleFile> {
    const loaded = await this.visible(actor, fileId);
    if (!loaded.canChange) throw forbidden('You may see this file but not change it.');
    return loaded;
  }

  async decide(actor: Actor, file: FileRecord, bucket: Bucket | null) {
    const grants =
      actor.roles.includes('admin') || file.references.length === 0
        ? []
        : await this.deps.metadata.grants.findForUser(actor.tenantId, actor.userId, file.references);
    return fileAccess(actor, file, bucket, grants);
  }
}
