import { describe, expect, it } from 'vitest';
import { withBucketCache } from '../../../shared/adapters/cached-buckets.js';
import { runAsTenant } from '../../../shared/adapters/tenant-scope/tenant-context.js';
import type { Bucket } from '../../../shared/domain/model.js';
import type { MetadataStore } from '../../../shared/ports/repositories.js';

const bucket = (id: string, maxFileSize = 1024): Bucket => ({
  id,
  name: `bucket ${id}`,
  providerId: 'default',
  path: '/',
  allowedMimeTypes: ['application/pdf'],
  maxFileSize,
  retentionDays: 30,
  restricted: false,
  deleteUnreferenced: false,
  createdAt: '2026-12-01T00:00:00.000Z',
  updatedAt: '2026-12-01T00:00:00.000Z',
});

/** A table of buckets by `tenant/id` that counts its reads. */
function table(initial: Record<string, Bucket>) {
  const rows = new Map(Object.entries(initial));
  const reads: string[] = [];
  const metadata = {
    files: { marker: 'files' },
    buckets: {
      get: async (tenantId: string, bucketId: string) => {
        reads.push(`${tenantId}/${bucketId}`);
        const row = rows.get(`${tenantId}/${bucketId}`);
        return row ? structuredClone(row) : null;
      },
      update: async (tenantId: string, _before: Bucket, after: Bucket) => {
        rows.set(`${tenantId}/${after.id}`, after);
      },
      delete: async (tenantId: string, b: Bucket) => rows.delete(`${tenantId}/${b.id}`),
    },
  } as unknown as MetadataStore;
  return { metadata, rows, reads };
}

describe('withBucketCache', () => {
  it('serves a bucket read again within the TTL from memory, as a copy the caller cannot spoil', async () => {
    // Prepare
    const { metadata, reads } = table({ 'acme/b1': bucket('b1') });
    const cached = withBucketCache(metadata);
    // Act
    const first = await cached.buckets.get('acme', 'b1');
    if (first) first.maxFileSize = 1; // a caller mutating its answer
    const second = await cached.buckets.get('acme', 'b1');
    // Assess
    expect(reads).toEqual(['acme/b1']);
    expect(second?.maxFileSize).toBe(1024);
    expect((cached as unknown as { files: unknown }).files).toEqual({ marker: 'files' });
  });

  it('sees a change made through it at once, and reads the table for a fresh read', async () => {
    const { metadata, reads } = table({ 'acme/b1': bucket('b1') });
    const cached = withBucketCache(metadata);
    const before = (await cached.buckets.get('acme', 'b1')) as Bucket;
    await cached.buckets.update('acme', before, { ...before, maxFileSize: 2048 });
    expect((await cached.buckets.get('acme', 'b1'))?.maxFileSize).toBe(2048);
    await cached.buckets.get('acme', 'b1', { fresh: true });
    expect(reads).toEqual(['acme/b1', 'acme/b1', 'acme/b1']);
  });

  it('sees a change made elsewhere once the TTL has passed', async () => {
    const { metadata, rows } = table({ 'acme/b1': bucket('b1') });
    const cached = withBucketCache(metadata, { ttlMs: 30 });
    await cached.buckets.get('acme', 'b1');
    rows.set('acme/b1', bucket('b1', 4096)); // another container's write
    expect((await cached.buckets.get('acme', 'b1'))?.maxFileSize).toBe(1024);
    await new Promise((done) => setTimeout(done, 60));
    expect((await cached.buckets.get('acme', 'b1'))?.maxFileSize).toBe(4096);
  });

  it('does not keep a missing bucket, so one created elsewhere is usable at once', async () => {
    const { metadata, rows } = table({});
    const cached = withBucketCache(metadata);
    expect(await cached.buckets.get('acme', 'b2')).toBeNull();
    rows.set('acme/b2', bucket('b2'));
    expect(await cached.buckets.get('acme', 'b2')).toMatchObject({ id: 'b2' });
  });

  it('forgets a bucket deleted through it', async () => {
    const { metadata } = table({ 'acme/b1': bucket('b1') });
    const cached = withBucketCache(metadata);
    const b1 = (await cached.buckets.get('acme', 'b1')) as Bucket;
    await cached.buckets.delete('acme', b1);
    expect(await cached.buckets.get('acme', 'b1')).toBeNull();
  });

  it("never answers one tenant's scope from an entry read in another's", async () => {
    const { metadata, reads } = table({ 'acme/b1': bucket('b1') });
    const cached = withBucketCache(metadata);
    await runAsTenant('acme', () => cached.buckets.get('acme', 'b1'));
    // A bug that asks for acme's bucket inside globex's request goes to the table, whose
    // scoped credentials refuse it in AWS, instead of being answered from memory.
    await runAsTenant('globex', () => cached.buckets.get('acme', 'b1'));
    expect(reads).toEqual(['acme/b1', 'acme/b1']);
  });
});
