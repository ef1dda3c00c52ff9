import { DEFAULT_PROVIDER_ID } from '../domain/ids.js';
import { objectKeys, parseFileObjectKey } from '../domain/keys.js';
import { type FileRecord, SYSTEM_ACTOR } from '../domain/model.js';
import type { Quota } from '../domain/quota.js';
import type { ObjectStore } from '../ports/object-store.js';
import { AuditTrail } from './audit-trail.js';
import type { ServiceDeps } from './service-deps.js';

export interface ConsistencyReport {
  tenantId: string;
  /** Objects under the tenant's prefix that no pending, active or deleted file owns. */
  objectsWithoutMetadata: { providerId: string; key: string; size: number }[];
  /** Active or deleted files whose object is not in storage. */
  metadataWithoutObjects: { fileId: string; status: FileRecord['status']; key: string }[];
  quota: { recorded: Omit<Quota, 'limitBytes'>; actual: Omit<Quota, 'limitBytes'>; consistent: boolean };
  /**
   * Buckets whose live-file count (what a bucket delete is conditional on) differs from their
   * pending, active and deleted files; `recorded` null for a bucket written before the count.
   */
  bucketCounts: { bucketId: string; recorded: number | null; actual: number }[];
  fixed: boolean;
}

/**
 * The consistency check (`npm run fsck`, and the maintenance handler in report mode): compares
 * one tenant's objects with its metadata and its quota counters with its files. Objects are
 * listed before files, so an upload that starts meanwhile cannot look orphaned (its record is
 * written before its bytes can arrive). With `fix`, strays are deleted, lost files purged, and
 * the counters set to what the files add up to; run it when the tenant is quiet.
 */
export class ConsistencyService {
  private readonly audit: AuditTrail;

  constructor(private readonly deps: ServiceDeps) {
    this.audit = new AuditTrail(deps);
  }

  async check(tenantId: string, opts: { fix: boolean }): Promise<ConsistencyReport> {
    const providerIds = await this.providerIds(tenantId);
    const objects = new Map<string, { providerId: string; key: string; size: number }>();
    for (const providerId of providerIds) {
      const store = await this.deps.stores.forProvider(tenantId, providerId);
      for (const o of await listAll(store, objectKeys.tenantPrefix(tenantId)))
        objects.set(`${providerId}\u0000${o.key}`, { providerId, key: o.key, size: o.size });
    }
    const recorded = await this.deps.metadata.quota.get(tenantId);
    const files = await this.allFiles(tenantId);

    const owned = new Set(
      files.filter((f) => f.status !== 'rejected').map((f) => `${f.providerId}\u0000${f.objectKey}`),
    );
    const objectsWithoutMetadata = [...objects.entries()]
      .filter(([id, o]) => !owned.has(id) && !isPreview(o.key))
      .map(([, o]) => o);
    const metadataWithoutObjects = files
      .filter(
        (f) =>
          (f.status === 'active' || f.status === 'deleted') &&
          !objects.has(`${f.providerId}\u0000${f.objectKey}`),
      )
      .map((f) => ({ fileId: f.id, status: f.status, key: f.objectKey }));

    const counted = files.filter((f) => f.status === 'active' || f.status === 'deleted');
    const actual = {
      usedBytes: sum(counted),
      reservedBytes: sum(files.filter((f) => f.status === 'pending')),
      fileCount: counted.length,
    };
    const recordedCounts = {
      usedBytes: recorded.usedBytes,
      reservedBytes: recorded.reservedBytes,
      fileCount: recorded.fileCount,
    };
    const consistent =
      actual.usedBytes === recorded.usedBytes &&
      actual.reservedBytes === recorded.reservedBytes &&
      actual.fileCount === recorded.fileCount;

    const bucketCounts = bucketCountsOff(await this.deps.metadata.buckets.liveFileCounts(tenantId), files);

    const report: ConsistencyReport = {
      tenantId,
      objectsWithoutMetadata,
      metadataWithoutObjects,
      quota: { recorded: recordedCounts, actual, consistent },
      bucketCounts,
      fixed: false,
    };
    if (opts.fix) await this.repair(tenantId, report, files, recorded);
    return report;
  }

  private async repair(tenantId: string, report: ConsistencyReport, files: FileRecord[], recorded: Quota) {
    for (const stray of report.objectsWithoutMetadata) {
      const store = await this.deps.stores.forProvider(tenantId, stray.providerId);
      await store.delete(stray.key);
    }
    const byId = new Map(files.map((f) => [f.id, f]));
    for (const lost of report.metadataWithoutObjects) {
      const file = byId.get(lost.fileId) as FileRecord;
      // Through the state machine: active → deleted → purged, each step conditional.
      if (file.status === 'active')
        await this.deps.metadata.files.softDelete(file, this.deps.clock.now().toISOString());
      if (await this.deps.metadata.files.purge({ ...file, status: 'deleted' }))
        await this.deps.metadata.references.removeAllForFile(tenantId, file.id, file.references);
      await this.audit.record(tenantId, {
        type: 'file.lost',
        actor: SYSTEM_ACTOR,
        fileId: file.id,
        providerId: file.providerId,
        status: 'error',
        details: { size: file.size, status: file.status },
      });
    }
    // Counters last, from the files as they are after the repairs above.
    const after = report.metadataWithoutObjects.length > 0 ? await this.allFiles(tenantId) : files;
    const counted = after.filter((f) => f.status === 'active' || f.status === 'deleted');
    const quotaNow =
      report.metadataWithoutObjects.length > 0 ? await this.deps.metadata.quota.get(tenantId) : recorded;
    const quotaFixed = await this.deps.metadata.quota.reconcile(tenantId, quotaNow, {
      usedBytes: sum(counted),
      reservedBytes: sum(after.filter((f) => f.status === 'pending')),
      fileCount: counted.length,
    });
    let countsFixed = true;
    const countsNow = bucketCountsOff(await this.deps.metadata.buckets.liveFileCounts(tenantId), after);
    for (const off of countsNow)
      countsFixed =
        (await this.deps.metadata.buckets.setLiveFileCount(
          tenantId,
          off.bucketId,
          off.recorded,
          off.actual,
        )) && countsFixed;
    report.fixed = quotaFixed && countsFixed;
  }

  private async providerIds(tenantId: string): Promise<string[]> {
    const ids = [DEFAULT_PROVIDER_ID];
    let cursor: string | undefined;
    do {
      const page = await this.deps.metadata.providers.list(tenantId, { limit: 1000, cursor });
      ids.push(...page.items.map((p) => p.id));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return ids;
  }

  private async allFiles(tenantId: string): Promise<FileRecord[]> {
    const files: FileRecord[] = [];
    for (const partition of ['live', 'deleted'] as const) {
      let cursor: string | undefined;
      do {
        const page = await this.deps.metadata.files.list({ tenantId, partition }, { limit: 1000, cursor });
        files.push(...page.items);
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
    }
    return files;
  }
}

/** The buckets whose recorded live-file count is not the number of their non-rejected files. */
function bucketCountsOff(recorded: Map<string, number | null>, files: FileRecord[]) {
  const actual = new Map<string, number>();
  for (const f of files)
    if (f.status !== 'rejected') actual.set(f.bucketId, (actual.get(f.bucketId) ?? 0) + 1);
  return [...recorded.entries()]
    .map(([bucketId, count]) => ({ bucketId, recorded: count, actual: actual.get(bucketId) ?? 0 }))
    .filter((b) => b.recorded !== b.actual);
}

const sum = (files: FileRecord[]) => files.reduce((total, f) => total + f.size, 0);

/** Preview PNGs live in the cache bucket; on a provider that shares one bucket they are not strays. */
const isPreview = (key: string) => parseFileObjectKey(key) === null && key.includes('/previews/');

async function listAll(store: ObjectStore, prefix: string) {
  const objects: { key: string; size: number }[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.list({ prefix, cursor, limit: 1000 });
    objects.push(...page.objects);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return objects;
}
