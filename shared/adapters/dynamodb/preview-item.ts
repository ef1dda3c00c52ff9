import { tableKeys } from '../../domain/keys.js';
import type { PreviewCounters, PreviewEntry, PreviewEntryStatus } from '../../domain/preview.js';
import type { TableKey } from './batch.js';
import { itemReader } from './item-reader.js';
import type { Item } from './table-context.js';

const STATUSES: readonly PreviewEntryStatus[] = ['ready', 'failed'];

/**
 * A preview cache entry lives in its file's partition (`PREVIEW#{variant}`), in GSI1 by last
 * access (the LRU order of the tenant's cache) and in GSI3 by creation (expiry by age). The
 * tenant's counters are one item, `T#{t}` / `PREVIEWSTATS`, also in GSI3 so that maintenance
 * can find the tenants that have a cache.
 */
export const previewItem = {
  key: (tenantId: string, fileId: string, variant: string): TableKey => ({
    PK: tableKeys.filePk(tenantId, fileId),
    SK: tableKeys.previewSk(variant),
  }),

  accessKeys: (entry: Pick<PreviewEntry, 'tenantId' | 'fileId' | 'variant'>, lastAccessAt: string) => ({
    GSI1PK: tableKeys.previewsByAccessPk(entry.tenantId),
    GSI1SK: tableKeys.previewAccessSk(lastAccessAt, entry.fileId, entry.variant),
  }),

  toItem: (entry: PreviewEntry): Item => ({
    ...previewItem.key(entry.tenantId, entry.fileId, entry.variant),
    ...previewItem.accessKeys(entry, entry.lastAccessAt),
    GSI3PK: tableKeys.previewSweepPk(entry.tenantId),
    GSI3SK: tableKeys.previewSweepSk(entry.createdAt, entry.fileId, entry.variant),
    entity: 'preview',
    tenantId: entry.tenantId,
    fileId: entry.fileId,
    variant: entry.variant,
    status: entry.status,
    reason: entry.reason,
    size: entry.size,
    width: entry.width,
    height: entry.height,
    objectKey: entry.objectKey,
    createdAt: entry.createdAt,
    lastAccessAt: entry.lastAccessAt,
    renderMs: entry.renderMs,
    renderId: entry.renderId,
  }),

  fromItem(item: Item): PreviewEntry {
    const read = itemReader(item);
    const status = read.string('status') as PreviewEntryStatus;
    if (!STATUSES.includes(status)) throw new TypeError(`Preview ${String(item.SK)} has status ${status}.`);
    return {
      tenantId: read.string('tenantId'),
      fileId: read.string('fileId'),
      variant: read.string('variant'),
      status,
      reason: read.stringOrNull('reason'),
      size: read.number('size'),
      width: read.number('width'),
      height: read.number('height'),
      objectKey: read.string('objectKey'),
      createdAt: read.string('createdAt'),
      lastAccessAt: read.string('lastAccessAt'),
      renderMs: read.numberOrNull('renderMs'),
      renderId: read.string('renderId'),
    };
  },

  statsKey: (tenantId: string): TableKey => ({
    PK: tableKeys.tenantPk(tenantId),
    SK: tableKeys.previewStatsSk,
  }),

  /** SET part of every counter update: creates the item on first use, findable by maintenance. */
  statsSetExpression: 'entity = :statsEntity, tenantId = :tenantId, GSI3PK = :statsPk, GSI3SK = :statsSk',
  statsSetValues: (tenantId: string) => ({
    ':statsEntity': 'previewstats',
    ':tenantId': tenantId,
    ':statsPk': tableKeys.previewStatsSweepPk(tenantId),
    ':statsSk': tableKeys.previewStatsSk,
  }),

  countersFrom(item: Item | undefined): PreviewCounters {
    const read = itemReader(item ?? {});
    const n = (name: keyof PreviewCounters) => (item ? (read.numberOrNull(name) ?? 0) : 0);
    return {
      hits: n('hits'),
      misses: n('misses'),
      errors: n('errors'),
      renders: n('renders'),
      totalRenderMs: n('totalRenderMs'),
      objects: n('objects'),
      bytes: n('bytes'),
    };
  },
};
