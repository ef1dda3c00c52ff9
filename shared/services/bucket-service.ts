import { requireRole } from '../domain/access.js';
import { conflict, notFound, validationFailed } from '../domain/errors.js';
import { hasUnsafeCharacters } from '../domain/filename.js';
import { DEFAULT_PROVIDER_ID } from '../domain/ids.js';
import type { MalwareScanMode } from '../domain/malware-scan.js';
import { normalizeMimePattern } from '../domain/mime.js';
import type { Actor, Bucket, Page } from '../domain/model.js';
import { InUseError, NameTakenError, NotFoundError } from '../ports/repositories.js';
import { AuditTrail } from './audit-trail.js';
import type { ProviderService } from './provider-service.js';
import type { ServiceDeps } from './service-deps.js';

export interface BucketRules {
  allowedMimeTypes?: string[] | null;
  maxFileSize?: number;
  retentionDays?: number;
  restricted?: boolean;
  deleteUnreferenced?: boolean;
  malwareScan?: MalwareScanMode;
}

export interface CreateBucketInput extends BucketRules {
  name: string;
  providerId?: string;
  path?: string;
}

export interface UpdateBucketInput extends BucketRules {
  name?: string;
}

const DEFAULT_RETENTION_DAYS = 30;

/** Buckets: storage locations with their own rules. */
export class BucketService {
  private readonly audit: AuditTrail;

  constructor(
    private readonly deps: ServiceDeps,
    private readonly providers: ProviderService,
  ) {
    this.audit = new AuditTrail(deps);
  }

  async create(actor: Actor, input: CreateBucketInput): Promise<Bucket> {
    requireRole(actor, 'admin');
    const name = this.normalizeName(input.name);
    const allowedMimeTypes = this.normalizeAllowed(input.allowedMimeTypes);
    const maxFileSize = this.checkMaxFileSize(input.maxFileSize ?? this.deps.settings.maxFileSize);
    const providerId = input.providerId ?? DEFAULT_PROVIDER_ID;
    const malwareScan = this.checkMalwareScan(input.malwareScan ?? 'off', providerId);
    if (!(await this.providers.find(actor.tenantId, providerId))) throw notFound('The provider');
    const now = this.deps.clock.now().toISOString();
    const bucket: Bucket = {
      id: this.deps.ids.next(),
      name,
      providerId,
      path: input.path ?? '/',
      allowedMimeTypes,
      maxFileSize,
      retentionDays: input.retentionDays ?? DEFAULT_RETENTION_DAYS,
      restricted: input.restricted ?? false,
      deleteUnreferenced: input.deleteUnreferenced ?? false,
      malwareScan,
      createdAt: now,
      updatedAt: now,
    };
    try {
      await this.deps.metadata.buckets.create(actor.tenantId, bucket);
    } catch (error) {
      throw this.translate(error);
    }
    await this.audit.record(actor.tenantId, {
      type: 'bucket.created',
      actor: actor.userId,
      providerId,
      details: { bucketId: bucket.id, name },
    });
    return bucket;
  }

  async get(actor: Actor, bucketId: string): Promise<Bucket> {
    requireRole(actor, 'viewer');
    return this.require(actor.tenantId, bucketId, { fresh: true });
  }

  async list(actor: Actor, page: { limit: number; cursor?: string }): Promise<Page<Bucket>> {
    requireRole(actor, 'viewer');
    return this.deps.metadata.buckets.list(actor.tenantId, page);
  }

  async update(actor: Actor, bucketId: string, input: UpdateBucketInput): Promise<Bucket> {
    requireRole(actor, 'admin');
    const name = input.name === undefined ? undefined : this.normalizeName(input.name);
    const allowedMimeTypes =
      input.allowedMimeTypes === undefined ? undefined : this.normalizeAllowed(input.allowedMimeTypes);
    const maxFileSize =
      input.maxFileSize === undefined ? undefined : this.checkMaxFileSize(input.maxFileSize);
    const before = await this.require(actor.tenantId, bucketId, { fresh: true });
    const malwareScan =
      input.malwareScan === undefined
        ? undefined
        : this.checkMalwareScan(input.malwareScan, before.providerId);
    const after: Bucket = {
      ...before,
      name: name ?? before.name,
      allowedMimeTypes: allowedMimeTypes === undefined ? before.allowedMimeTypes : allowedMimeTypes,
      maxFileSize: maxFileSize ?? before.maxFileSize,
      retentionDays: input.retentionDays ?? before.retentionDays,
      restricted: input.restricted ?? before.restricted,
      deleteUnreferenced: input.deleteUnreferenced ?? before.deleteUnreferenced,
      malwareScan: malwareScan ?? before.malwareScan ?? 'off',
      updatedAt: this.deps.clock.now().toISOString(),
    };
    try {
      await this.deps.metadata.buckets.update(actor.tenantId, before, after);
    } catch (error) {
      throw this.translate(error);
    }
    await this.audit.record(actor.tenantId, {
      type: 'bucket.updated',
      actor: actor.userId,
      providerId: after.providerId,
      details: { bucketId, changed: Object.keys(input) },
    });
    return after;
  }

  async delete(actor: Actor, bucketId: string): Promise<void> {
    requireRole(actor, 'admin');
    const bucket = await this.require(actor.tenantId, bucketId, { fresh: true });
    // The index check answers at once for files long listed (and for buckets older than their
    // live-file count); the delete's own condition on that count closes the race with uploads.
    if (await this.deps.metadata.files.bucketHasFiles(actor.tenantId, bucketId))
      throw conflict('The bucket still holds files.');
    let deleted: boolean;
    try {
      deleted = await this.deps.metadata.buckets.delete(actor.tenantId, bucket);
    } catch (error) {
      if (error instanceof InUseError) throw conflict('The bucket still holds files.');
      throw error;
    }
    if (!deleted) throw notFound('The bucket');
    await this.audit.record(actor.tenantId, {
      type: 'bucket.deleted',
      actor: actor.userId,
      providerId: bucket.providerId,
      details: { bucketId, name: bucket.name },
    });
  }

  /**
   * The bucket or NOT_FOUND. Uploads read it through the settings cache; `fresh` reads the table,
   * for what a change starts from and what the bucket's own routes answer.
   */
  async require(tenantId: string, bucketId: string, opts: { fresh?: boolean } = {}): Promise<Bucket> {
    const bucket = await this.deps.metadata.buckets.get(tenantId, bucketId, opts);
    if (!bucket) throw notFound('The bucket');
    return bucket;
  }

  private normalizeName(raw: string): string {
    const name = raw.normalize('NFC').trim();
    if (name === '' || name.length > 128 || hasUnsafeCharacters(name) || !name.isWellFormed())
      throw validationFailed('name must be 1 to 128 printable characters.');
    return name;
  }

  private normalizeAllowed(list: string[] | null | undefined): string[] | null {
    if (list === undefined || list === null) return null;
    if (list.length === 0)
      throw validationFailed('allowedMimeTypes must not be empty; omit it to allow any type.');
    return [...new Set(list.map(normalizeMimePattern))];
  }

  private checkMaxFileSize(size: number): number {
    const ceiling = this.deps.settings.maxFileSize;
    if (size > ceiling) throw validationFailed(`maxFileSize must be at most ${ceiling}.`, { ceiling });
    return size;
  }

  /** API.md 13.6: a bucket may require a scan only where a scanner is there to answer. */
  private checkMalwareScan(mode: MalwareScanMode, providerId: string): MalwareScanMode {
    if (mode !== 'required') return mode;
    if (!this.deps.malware)
      throw validationFailed(
        'malwareScan "required" needs a malware scanner, and this deployment has none configured ' +
          '(self-hosted: CLAMD_SOCKET or CLAMD_HOST/CLAMD_PORT; AWS: GuardDuty Malware Protection).',
      );
    if (this.deps.malware.scanner.defaultStoreOnly && providerId !== DEFAULT_PROVIDER_ID)
      throw validationFailed(
        `malwareScan "required" is available only on the default provider here: ${this.deps.malware.scanner.name} scans the deployment's own storage.`,
      );
    return mode;
  }

  private translate(error: unknown): unknown {
    if (error instanceof NameTakenError) return conflict('A bucket with this name already exists.');
    if (error instanceof NotFoundError) return notFound('The provider');
    return error;
  }
}
