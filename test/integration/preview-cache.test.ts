import { beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../functions/lib/compose.js';
import { makeMaintenanceHandler } from '../../functions/maintenance/handler.js';
import type { Actor, Bucket, FileRecord } from '../../shared/domain/model.js';
import { newTenant, sendBytes } from '../support/api.js';
import { composePreviewApp, type PreviewTestSetup, previewTestSetup } from '../support/preview-app.js';
import { decodeImage, pagesPdf, squareImage } from '../support/preview-samples.js';
import { minimalPdf } from '../support/samples.js';
import { manualClock, storeBucket } from '../support/second-app.js';

/**
 * The cache's upkeep and its library interface, on apps composed as a Lambda composes them,
 * each over a table and buckets of its own (maintenance sweeps every tenant of its table), with
 * a clock the test moves and preview settings from the environment.
 */

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

let setup: PreviewTestSetup;
const clock = manualClock();

beforeAll(async () => {
  setup = await previewTestSetup('pvc');
});

async function tenantIn(app: App, label: string) {
  const actor: Actor = { tenantId: newTenant(label), userId: 'alice', roles: ['admin'] };
  const bucket = await app.services.buckets.create(actor, { name: 'Docs' });
  return { actor, bucket };
}

async function activeFile(app: App, actor: Actor, bucket: Bucket, bytes: Uint8Array, contentType: string) {
  const { file, upload } = await app.services.uploads.initiate(actor, bucket.id, {
    filename: 'f',
    contentType,
    size: bytes.length,
  });
  expect((await sendBytes(upload, bytes)).status).toBe(200);
  return app.services.uploads.complete(actor, file.id, undefined);
}

const cachedKeys = async (tenantId: string) =>
  (await storeBucket(setup.previewBucket).list({ prefix: `tenants/${tenantId}/previews/` })).objects.map(
    (o) => o.key,
  );

describe('eviction under the per-tenant byte cap', () => {
  it('removes the least recently used previews first, only in the tenant over its cap', async () => {
    // Prepare: three previews drawn an hour apart, then the first one looked at again
    const app = await composePreviewApp(setup, { clock });
    const { actor, bucket } = await tenantIn(app, 'lru');
    const files: FileRecord[] = [];
    for (const n of [1, 2, 3]) {
      files.push(await activeFile(app, actor, bucket, await pagesPdf(n), 'application/pdf'));
      clock.advance(HOUR);
      expect(await app.services.previews.get(actor, files.at(-1)?.id as string)).toMatchObject({
        cached: false,
      });
    }
    const [a, b, c] = files as [FileRecord, FileRecord, FileRecord];
    clock.advance(HOUR);
    expect(await app.services.previews.get(actor, a.id)).toMatchObject({ cached: true });
    const small = await tenantIn(app, 'lru-small');
    const other = await activeFile(app, small.actor, small.bucket, minimalPdf(), 'application/pdf');
    await app.services.previews.get(small.actor, other.id);

    const sizes = new Map<string, number>();
    for (const file of files) {
      const [entry] = await app.metadata.previews.listForFile(actor.tenantId, file.id);
      sizes.set(file.id, entry?.size as number);
    }
    const otherBytes = (await app.services.previews.metrics(small.actor)).bytes;
    // a cap that holds a and c (and the small tenant's cache), but not b as well
    const cap = Math.max(sizes.get(a.id)! + sizes.get(c.id)!, otherBytes);
    expect(sizes.get(a.id)! + sizes.get(b.id)! + sizes.get(c.id)!).toBeGreaterThan(cap);

    // Act: maintenance of an app whose cap is that
    const capped = await composePreviewApp(setup, { clock, env: { PREVIEW_CACHE_MAX_SIZE: String(cap) } });
    const report = await makeMaintenanceHandler({ maintenance: capped.services.maintenance })();
    expect(report.errors).toBe(0);

    // Assess: b went (it was used least recently), a and c stayed; the other tenant untouched
    const cache = capped.services.previewCacheFor(actor.tenantId);
    expect(await cache.exists(b.id)).toBe(false);
    expect(await cache.exists(a.id)).toBe(true);
    expect(await cache.exists(c.id)).toBe(true);
    expect(await cachedKeys(actor.tenantId)).toHaveLength(2);
    expect(await cache.getMetrics()).toMatchObject({
      objects: 2,
      bytes: sizes.get(a.id)! + sizes.get(c.id)!,
    });
    expect(await capped.services.previewCacheFor(small.actor.tenantId).exists(other.id)).toBe(true);
    expect((await capped.services.maintenance.sweepPreviews()).evicted).toBe(0);
    // the evicted one is simply drawn again when asked for
    expect(await capped.services.previews.get(actor, b.id)).toMatchObject({ cached: false });
  });
});

describe('expiry by PREVIEW_CACHE_MAX_AGE', () => {
  it('removes entries and objects older than the maximum age, and keeps younger ones', async () => {
    const app = await composePreviewApp(setup, { clock, env: { PREVIEW_CACHE_MAX_AGE: String(2 * DAY) } });
    const run = makeMaintenanceHandler({ maintenance: app.services.maintenance });
    const { actor, bucket } = await tenantIn(app, 'age');
    const old = await activeFile(app, actor, bucket, minimalPdf('Old'), 'application/pdf');
    await app.services.previews.get(actor, old.id);
    clock.advance(DAY);
    const young = await activeFile(app, actor, bucket, minimalPdf('Young'), 'application/pdf');
    await app.services.previews.get(actor, young.id);
    // reading it does not make it younger: age counts from the render, like the bucket lifecycle
    clock.advance(DAY + HOUR);
    expect(await app.services.previews.get(actor, old.id)).toMatchObject({ cached: true });

    await run();

    const cache = app.services.previewCacheFor(actor.tenantId);
    expect(await cache.exists(old.id)).toBe(false);
    expect(await cache.exists(young.id)).toBe(true);
    expect((await cachedKeys(actor.tenantId)).every((key) => key.includes(young.id))).toBe(true);
    expect((await cache.getMetrics()).objects).toBe(1);
    expect((await app.services.files.get(actor, old.id)).previewStatus).toBeUndefined();

    clock.advance(DAY);
    await run();
    expect(await cache.exists(young.id)).toBe(false);
    expect(await cachedKeys(actor.tenantId)).toEqual([]);
    expect(await cache.getMetrics()).toMatchObject({ objects: 0, bytes: 0, renders: 2, hits: 1 });
  });
});

describe('the cache as a library: previewCacheFor(tenantId)', () => {
  it('sets, finds, serves, counts and purges', async () => {
    const app = await composePreviewApp(setup, { clock });
    const { actor, bucket } = await tenantIn(app, 'lib');
    const file = await activeFile(app, actor, bucket, await squareImage('png', 400, 300), 'image/png');
    const cache = app.services.previewCacheFor(actor.tenantId);

    expect(await cache.exists(file.id)).toBe(false);
    expect(await cache.get(file.id)).toBeNull();
    const png = await squareImage('png', 200, 150);
    await cache.set(file.id, png);
    expect(await cache.exists(file.id)).toBe(true);

    const url = await cache.get(file.id);
    const served = new Uint8Array(await (await fetch(url as string)).arrayBuffer());
    expect(Buffer.from(served).equals(Buffer.from(png))).toBe(true);
    expect(await decodeImage(served)).toMatchObject({ width: 200, height: 150 });
    expect(await app.services.previews.get(actor, file.id)).toMatchObject({ cached: true, width: 200 });
    expect(await cache.getMetrics()).toMatchObject({ hits: 2, misses: 1, objects: 1, bytes: png.byteLength });

    await expect(cache.set(file.id, Buffer.from('not a png at all, not at all'))).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });

    await cache.purge();
    expect(await cache.exists(file.id)).toBe(false);
    expect(await cachedKeys(actor.tenantId)).toEqual([]);
    expect(await cache.getMetrics()).toMatchObject({ hits: 2, misses: 1, objects: 0, bytes: 0 });
  });
});

describe('counters under concurrency', () => {
  it('counts one cached object when two processes render the same preview at once', async () => {
    const [first, second] = await Promise.all([composePreviewApp(setup), composePreviewApp(setup)]);
    const { actor, bucket } = await tenantIn(first, 'race');
    const file = await activeFile(first, actor, bucket, await pagesPdf(2), 'application/pdf');

    const answers = await Promise.all([
      first.services.previews.get(actor, file.id),
      second.services.previews.get(actor, file.id),
    ]);

    expect(answers.map((a) => a.status)).toEqual(['ready', 'ready']);
    const metrics = await first.services.previews.metrics(actor);
    expect(metrics).toMatchObject({ objects: 1, misses: 2, renders: 2 });
    const [entry] = await first.metadata.previews.listForFile(actor.tenantId, file.id);
    expect(metrics.bytes).toBe(entry?.size);
  });
});
