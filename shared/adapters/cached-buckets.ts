import { performance } from 'node:perf_hooks';
import type { Bucket } from '../domain/model.js';
import type { BucketRepository, MetadataStore } from '../ports/repositories.js';
import { currentTenant } from './tenant-scope/tenant-context.js';

/** How long a container serves a bucket's settings from memory (README: "bucket settings"). */
export const BUCKET_CACHE_TTL_MS = 5_000;
const MAX_ENTRIES = 1_000;

/**
 * Bucket settings read on every upload, download and preview, served from this process's
 * memory for `ttlMs` (5 s) after a read (issue 14). A change made through this process is seen
 * at once; one made by another container is seen within `ttlMs`. Only found buckets are kept,
 * so a bucket created elsewhere is usable at once; a bucket deleted elsewhere can still be
 * read here for up to `ttlMs`, but never gains a file: the transaction that creates a file
 * requires the bucket's item. Keys carry the tenant, and the scope they were read in, so no tenant reads another's entry.
 */
export function withBucketCache(metadata: MetadataStore, opts: { ttlMs?: number } = {}): MetadataStore {
  const ttlMs = opts.ttlMs ?? BUCKET_CACHE_TTL_MS;
  const entries = new Map<string, { bucket: Bucket; until: number }>();
  // The scope the read ran under is part of the key: an entry read with one tenant's scoped
  // credentials is never served inside another tenant's scope (the second wall stays whole).
  const key = (tenantId: string, bucketId: string) =>
    [currentTenant() ?? '', tenantId, bucketId].join('\u0000');
  const forget = (tenantId: string, bucketId: string) => {
    for (const k of entries.keys()) if (k.endsWith(`\u0000${tenantId}\u0000${bucketId}`)) entries.delete(k);
  };
  // Read through `metadata` at call time: it may route each call to the caller's tenant scope.
  const inner = (): BucketRepository => metadata.buckets;

  const buckets: BucketRepository = {
    async get(tenantId, bucketId, readOpts) {
      const k = key(tenantId, bucketId);
      if (readOpts?.fresh) {
        entries.delete(k);
        return inner().get(tenantId, bucketId, readOpts);
      }
      const now = performance.now(); // monotonic: a clock change neither keeps nor drops entries
      const hit = entries.get(k);
      if (hit && hit.until > now) return structuredClone(hit.bucket);
      entries.delete(k);
      const bucket = await inner().get(tenantId, bucketId);
      if (bucket) {
        if (entries.size >= MAX_ENTRIES) entries.delete(entries.keys().next().value as string);
        entries.set(k, { bucket: structuredClone(bucket), until: now + ttlMs });
      }
      return bucket;
    },
    create: (tenantId, bucket) => inner().create(tenantId, bucket),
    list: (tenantId, page) => inner().list(tenantId, page),
    async update(tenantId, before, after) {
      forget(tenantId, before.id);
      try {
        await inner().update(tenantId, before, after);
      } finally {
        forget(tenantId, before.id); // a read that raced the write may have kept the old one
      }
    },
    async delete(tenantId, bucket) {
      forget(tenantId, bucket.id);
      try {
        return await inner().delete(tenantId, bucket);
      } finally {
        forget(tenantId, bucket.id);
      }
    },
    liveFileCounts: (tenantId) => inner().liveFileCounts(tenantId),
    setLiveFileCount: (tenantId, bucketId, seen, actual) =>
      inner().setLiveFileCount(tenantId, bucketId, seen, actual),
  };
  return new Proxy(metadata, {
    get: (target, property, receiver) =>
      property === 'buckets' ? buckets : Reflect.get(target, property, receiver),
  });
}
