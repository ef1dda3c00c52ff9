import { beforeAll, describe, expect, it } from 'vitest';
import { type Answer, type Client, client, newTenant, sendBytes } from '../support/api.js';
import { flateBombPdf } from '../support/flate-bomb.js';
import {
  corruptPdf,
  darkShare,
  decodeImage,
  encryptedPdf,
  heavyPdf,
  type ImageFormat,
  pagesPdf,
  squareImage,
  zeroPagePdf,
} from '../support/preview-samples.js';
import { CSV, minimalPdf } from '../support/samples.js';
import { storeBucket } from '../support/second-app.js';

/**
 * API.md section 9 through the running local stack: real uploads, real renders in the stack's
 * render process, and the PNGs looked at pixel by pixel.
 */

let tenant: string;
let admin: Client;
let member: Client;
let viewer: Client;
let stranger: Client; // another tenant
let docs: any;

beforeAll(async () => {
  tenant = newTenant('pv');
  admin = await client(tenant, 'alice', ['admin']);
  member = await client(tenant, 'bob', ['member']);
  viewer = await client(tenant, 'vic', ['viewer']);
  stranger = await client(newTenant('pv-other'), 'mallory', ['admin']);
  docs = (await admin.post('/v1/buckets', { name: 'Docs' })).body;
});

async function upload(api: Client, bytes: Uint8Array, contentType: string, name = 'file') {
  const init = await api.post(`/v1/buckets/${docs.id}/uploads`, {
    filename: name,
    contentType,
    size: bytes.length,
  });
  expect(init.status, JSON.stringify(init.body)).toBe(201);
  expect((await sendBytes(init.body.upload, bytes)).status).toBe(200);
  const done = await api.post(`/v1/files/${init.body.file.id}/complete`, {});
  expect(done.body.status).toBe('active');
  return done.body as { id: string };
}

/** GET the preview, waiting out 202s (a render ahead of time may be running). */
async function preview(api: Client, fileId: string): Promise<Answer & { waited: boolean }> {
  let waited = false;
  const until = Date.now() + 30_000;
  for (;;) {
    const answer = await api.get(`/v1/files/${fileId}/preview`);
    if (answer.status !== 202 || Date.now() > until) return { ...answer, waited };
    expect(answer.body).toEqual({ status: 'pending' });
    expect(Number(answer.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    waited = true;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A preview rendered by this request, not by the ahead-of-time render or an earlier ask. */
async function freshPreview(api: Client, fileId: string) {
  expect((await preview(api, fileId)).status).toBeLessThan(500);
  expect((await member.del(`/v1/files/${fileId}/preview`)).status).toBe(204);
  const answer = await preview(api, fileId);
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  expect(answer.body.cached).toBe(false);
  return answer;
}

async function pngAt(url: string) {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('image/png');
  return decodeImage(new Uint8Array(await res.arrayBuffer()));
}

const metrics = async (api: Client = admin) => {
  const answer = await api.get('/v1/previews/metrics');
  expect(answer.status).toBe(200);
  return answer.body;
};

/** The cache object behind a preview URL (path style: /{bucket}/{key}). */
function cacheObject(url: string) {
  const [, bucket, ...key] = new URL(url).pathname.split('/');
  return { store: storeBucket(bucket as string), key: key.map(decodeURIComponent).join('/') };
}

describe('PDF first pages', () => {
  it('renders page 1 at 800 px wide, aspect kept, then serves it from the cache', async () => {
    // Prepare: a 200 x 200 pt page with "Hello" in black
    const file = await upload(member, minimalPdf('Hello'), 'application/pdf', 'hello.pdf');
    const rendered = await freshPreview(viewer, file.id);
    const before = await metrics();

    // Assess the render: what a viewer gets, and what the PNG holds
    expect(rendered.body).toMatchObject({ contentType: 'image/png', width: 800, height: 800, cached: false });
    expect(Date.parse(rendered.body.expiresAt)).toBeGreaterThan(Date.now());
    expect(rendered.body.url).toContain(`/tenants/${tenant}/previews/${file.id}/w800-`);
    const png = await pngAt(rendered.body.url);
    expect(png).toMatchObject({ width: 800, height: 800 });
    expect(darkShare(png, { x0: 0.05, y0: 0.3, x1: 0.6, y1: 0.5 })).toBeGreaterThan(0.05);
    expect(darkShare(png, { x0: 0, y0: 0.6, x1: 1, y1: 1 })).toBe(0);

    // Act: ask again
    const again = await viewer.get(`/v1/files/${file.id}/preview`);

    // Assess: a hit, the same object, counted
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ cached: true, width: 800, height: 800 });
    expect(new URL(again.body.url).pathname).toBe(new URL(rendered.body.url).pathname);
    const after = await metrics();
    expect(after.hits).toBe(before.hits + 1);
    expect(after.misses).toBe(before.misses);
    expect(after.renders).toBe(before.renders);
    expect(after.hitRatio).toBeCloseTo(after.hits / (after.hits + after.misses), 3);
    expect(after.avgRenderMs).toBeGreaterThan(0);
    expect((await viewer.get(`/v1/files/${file.id}`)).body.preview).toEqual({ status: 'ready' });
  });

  it('draws the first page of many, a rotated page as landscape, and page 1 of 2000 pages', async () => {
    const many = await upload(member, await pagesPdf(40), 'application/pdf', 'many.pdf');
    const rotated = await upload(member, await pagesPdf(2, { rotate: 90 }), 'application/pdf', 'turned.pdf');
    const huge = await upload(member, await pagesPdf(2000), 'application/pdf', 'huge.pdf');

    const first = await preview(member, many.id);
    expect(first.body).toMatchObject({ width: 800, height: Math.round((792 / 612) * 800) });
    const page1 = await pngAt(first.body.url);
    // page 1 has its black block on the left half, every other page on the right half
    expect(darkShare(page1, { x0: 0.1, y0: 0.15, x1: 0.4, y1: 0.45 })).toBeGreaterThan(0.95);
    expect(darkShare(page1, { x0: 0.6, y0: 0.15, x1: 0.9, y1: 0.45 })).toBe(0);

    const turned = await preview(member, rotated.id);
    expect(turned.body).toMatchObject({ width: 800, height: Math.round((612 / 792) * 800) });
    expect(darkShare(await pngAt(turned.body.url))).toBeGreaterThan(0.1);

    const started = Date.now();
    const big = await freshPreview(member, huge.id);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(darkShare(await pngAt(big.body.url), { x0: 0.1, y0: 0.15, x1: 0.4, y1: 0.45 })).toBeGreaterThan(
      0.95,
    );
  });

  it('renders ahead of time when a PDF becomes active, so the first ask is already a hit', async () => {
    const before = await metrics();
    const file = await upload(member, await pagesPdf(2), 'application/pdf', 'ahead.pdf');
    const until = Date.now() + 20_000;
    let status = 'none';
    while (status !== 'ready' && Date.now() < until) {
      status = (await member.get(`/v1/files/${file.id}`)).body.preview.status;
      if (status !== 'ready') await new Promise((r) => setTimeout(r, 50));
    }
    expect(status).toBe('ready');
    expect((await member.get(`/v1/files/${file.id}/preview`)).body).toMatchObject({
      cached: true,
      width: 800,
    });
    const after = await metrics();
    expect(after).toMatchObject({
      misses: before.misses,
      hits: before.hits + 1,
      renders: before.renders + 1,
    });
  });

  it('answers 202 with Retry-After to asks that come while the file renders', async () => {
    const file = await upload(member, await heavyPdf(), 'application/pdf', 'heavy.pdf');
    await preview(member, file.id);
    expect((await member.del(`/v1/files/${file.id}/preview`)).status).toBe(204);

    const answers = await Promise.all([1, 2, 3].map(() => member.get(`/v1/files/${file.id}/preview`)));

    const pending = answers.filter((a) => a.status === 202);
    expect(pending.length).toBeGreaterThanOrEqual(1);
    for (const a of pending) {
      expect(a.body).toEqual({ status: 'pending' });
      expect(Number(a.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    }
    const done = answers.filter((a) => a.status === 200);
    expect(done.filter((a) => a.body.cached === false)).toHaveLength(1);
    expect((await preview(member, file.id)).body).toMatchObject({ cached: true });
  });
});

describe('image thumbnails', () => {
  it.each<[ImageFormat, string]>([
    ['png', 'image/png'],
    ['jpeg', 'image/jpeg'],
    ['gif', 'image/gif'],
    ['webp', 'image/webp'],
  ])('thumbnails a %s at 800 px wide with the dark corner where it was', async (format, mimeType) => {
    const file = await upload(member, await squareImage(format, 1000, 1500), mimeType, `pic.${format}`);
    const answer = await preview(member, file.id);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ width: 800, height: 1200 });
    const png = await pngAt(answer.body.url);
    expect(darkShare(png, { x0: 0.05, y0: 0.05, x1: 0.45, y1: 0.45 })).toBeGreaterThan(0.9);
    expect(darkShare(png, { x0: 0.55, y0: 0.55, x1: 0.95, y1: 0.95 })).toBe(0);
  });
});

describe('files the renderer cannot draw', () => {
  it.each([
    ['encrypted', encryptedPdf(), 'application/pdf'],
    ['corrupt', corruptPdf(), 'application/pdf'],
    ['no-pages', zeroPagePdf(), 'application/pdf'],
  ])('answers 422 PREVIEW_FAILED (%s) until the preview is deleted', async (reason, bytes, type) => {
    const file = await upload(member, bytes, type);
    const first = await preview(member, file.id);
    expect(first.status).toBe(422);
    expect(first.body.error).toMatchObject({ code: 'PREVIEW_FAILED', details: { reason } });
    expect((await member.get(`/v1/files/${file.id}`)).body.preview).toEqual({ status: 'failed' });

    // Remembered: asking again does not render again.
    const before = await metrics();
    expect((await member.get(`/v1/files/${file.id}/preview`)).status).toBe(422);
    expect((await metrics()).errors).toBe(before.errors);

    // Deleted, it is tried again (and fails again, counted).
    expect((await member.del(`/v1/files/${file.id}/preview`)).status).toBe(204);
    expect((await member.get(`/v1/files/${file.id}`)).body.preview).toEqual({ status: 'none' });
    expect((await member.get(`/v1/files/${file.id}/preview`)).status).toBe(422);
    expect((await metrics()).errors).toBe(before.errors + 1);
  });

  it('survives an image that crashes the canvas library, and goes on drawing', async () => {
    const whole = Buffer.from(await squareImage('png', 64, 64));
    const file = await upload(member, whole.subarray(0, 40), 'image/png', 'cut.png');
    const answer = await preview(member, file.id);
    expect(answer.status).toBe(422);
    expect(answer.body.error.details).toEqual({ reason: 'undecodable' });
    expect((await member.get('/v1/health')).status).toBe(200);
    const fine = await upload(member, await squareImage('png', 300, 200), 'image/png', 'fine.png');
    expect((await preview(member, fine.id)).body).toMatchObject({ width: 300, height: 200 });
  });
});

describe('what may be previewed, and by whom', () => {
  it('answers 415 for a type without a renderer, 409 for pending and rejected files, 404 when deleted', async () => {
    // CSV, text, Markdown, SVG and HTML are drawn by Chromium now (API.md 9); YAML has no renderer.
    const csv = await upload(member, CSV, 'application/x-yaml', 'rows.yaml');
    const unsupported = await member.get(`/v1/files/${csv.id}/preview`);
    expect(unsupported.status).toBe(415);
    expect(unsupported.body.error.code).toBe('PREVIEW_NOT_SUPPORTED');
    expect((await member.get(`/v1/files/${csv.id}`)).body.preview).toEqual({ status: 'none' });

    const pdf = minimalPdf();
    const pending = await member.post(`/v1/buckets/${docs.id}/uploads`, {
      filename: 'p.pdf',
      contentType: 'application/pdf',
      size: pdf.length,
    });
    expect((await member.get(`/v1/files/${pending.body.file.id}/preview`)).status).toBe(409);

    const mismatch = await member.post(`/v1/buckets/${docs.id}/uploads`, {
      filename: 'fake.png',
      contentType: 'image/png',
      size: pdf.length,
    });
    await sendBytes(mismatch.body.upload, pdf);
    expect((await member.post(`/v1/files/${mismatch.body.file.id}/complete`, {})).body.status).toBe(
      'rejected',
    );
    expect((await member.get(`/v1/files/${mismatch.body.file.id}/preview`)).status).toBe(409);

    const gone = await upload(member, minimalPdf(), 'application/pdf');
    expect((await member.del(`/v1/files/${gone.id}`)).status).toBe(204);
    expect((await member.get(`/v1/files/${gone.id}/preview`)).status).toBe(404);
    expect((await member.get('/v1/files/NOSUCHFILE/preview')).status).toBe(404);
  });

  it('lets viewers look, members drop one preview, and admins read metrics and purge', async () => {
    const file = await upload(member, minimalPdf(), 'application/pdf');
    expect((await preview(viewer, file.id)).status).toBe(200);
    expect((await viewer.del(`/v1/files/${file.id}/preview`)).status).toBe(403);
    expect((await member.get('/v1/previews/metrics')).status).toBe(403);
    expect((await member.del('/v1/previews')).status).toBe(403);
    expect((await viewer.get('/v1/previews/metrics')).status).toBe(403);
    expect((await member.del(`/v1/files/${file.id}/preview`)).status).toBe(204);

    // a file in a restricted bucket is no one's to see without a grant: 404, like download
    const closed = (await admin.post('/v1/buckets', { name: 'Closed', restricted: true })).body;
    const pdf = minimalPdf();
    const init = await admin.post(`/v1/buckets/${closed.id}/uploads`, {
      filename: 'secret.pdf',
      contentType: 'application/pdf',
      size: pdf.length,
      references: [{ entityType: 'ticket', entityId: 'T-9' }],
    });
    await sendBytes(init.body.upload, pdf);
    await admin.post(`/v1/files/${init.body.file.id}/complete`, {});
    expect((await viewer.get(`/v1/files/${init.body.file.id}/preview`)).status).toBe(404);
    expect((await preview(admin, init.body.file.id)).status).toBe(200);
  });

  it('keeps tenants apart: keys under the tenant prefix, metrics per tenant, no cross-tenant reads', async () => {
    expect(await metrics(stranger)).toEqual({
      hits: 0,
      misses: 0,
      errors: 0,
      renders: 0,
      hitRatio: 0,
      objects: 0,
      bytes: 0,
      avgRenderMs: 0,
    });
    const file = await upload(member, minimalPdf('Mine'), 'application/pdf');
    const mine = await preview(member, file.id);
    expect(cacheObject(mine.body.url).key).toMatch(new RegExp(`^tenants/${tenant}/previews/${file.id}/`));
    expect((await stranger.get(`/v1/files/${file.id}/preview`)).status).toBe(404);
    expect((await stranger.del(`/v1/files/${file.id}/preview`)).status).toBe(404);
    expect((await metrics(stranger)).objects).toBe(0);
  });
});

describe('the cache', () => {
  it('counts a missing or corrupt cached object as an error and renders it again', async () => {
    const file = await upload(member, minimalPdf('Again'), 'application/pdf');
    const first = (await preview(member, file.id)).body;
    const { store, key } = cacheObject(first.url);
    const size = (await store.head(key))?.size as number;

    // not a PNG any more (same size)
    await store.put({ key, body: new Uint8Array(size).fill(0x41), contentType: 'image/png' });
    let before = await metrics();
    const afterCorrupt = await member.get(`/v1/files/${file.id}/preview`);
    expect(afterCorrupt.body).toMatchObject({ cached: false, width: 800 });
    expect((await pngAt(afterCorrupt.body.url)).width).toBe(800);
    expect(await metrics()).toMatchObject({ errors: before.errors + 1, misses: before.misses + 1 });

    // gone
    await store.delete(key);
    before = await metrics();
    const afterMissing = await member.get(`/v1/files/${file.id}/preview`);
    expect(afterMissing.body).toMatchObject({ cached: false });
    expect((await pngAt(afterMissing.body.url)).height).toBe(800);
    const after = await metrics();
    expect(after).toMatchObject({ errors: before.errors + 1, objects: before.objects, bytes: before.bytes });
  });

  it('drops the previews of a soft-deleted file; a restored file is drawn again', async () => {
    const file = await upload(member, minimalPdf('Bye'), 'application/pdf');
    const shown = (await preview(member, file.id)).body;
    const before = await metrics();

    expect((await member.del(`/v1/files/${file.id}`)).status).toBe(204);

    expect((await fetch(shown.url)).status).toBe(404);
    const after = await metrics();
    expect(after.objects).toBe(before.objects - 1);
    expect((await member.get(`/v1/files/${file.id}/preview`)).status).toBe(404);

    expect((await member.post(`/v1/files/${file.id}/restore`)).status).toBe(200);
    const again = await preview(member, file.id);
    expect(again.status).toBe(200);
    expect((await pngAt(again.body.url)).width).toBe(800);
  });

  it('purges the tenant cache and keeps the counters; other tenants keep theirs', async () => {
    const file = await upload(member, minimalPdf('Purge'), 'application/pdf');
    const shown = (await preview(member, file.id)).body;
    const theirs = await stranger.post('/v1/buckets', { name: 'Theirs' });
    const pdf = minimalPdf('Theirs');
    const init = await stranger.post(`/v1/buckets/${theirs.body.id}/uploads`, {
      filename: 't.pdf',
      contentType: 'application/pdf',
      size: pdf.length,
    });
    await sendBytes(init.body.upload, pdf);
    await stranger.post(`/v1/files/${init.body.file.id}/complete`, {});
    const theirPreview = (await preview(stranger, init.body.file.id)).body;
    const before = await metrics();
    expect(before.objects).toBeGreaterThan(0);

    expect((await admin.del('/v1/previews')).status).toBe(204);

    const after = await metrics();
    expect(after).toMatchObject({ objects: 0, bytes: 0, hits: before.hits, misses: before.misses });
    expect(after.renders).toBe(before.renders);
    expect((await fetch(shown.url)).status).toBe(404);
    expect((await fetch(theirPreview.url)).status).toBe(200);
    expect((await metrics(stranger)).objects).toBe(1);
    expect((await member.get(`/v1/files/${file.id}/preview`)).body).toMatchObject({ cached: false });
  });
});

describe('the render process under its memory ceiling (issue 9, item 12)', () => {
  it('answers 422 PREVIEW_FAILED resource-limit for a Flate bomb, and the next PDF renders', async () => {
    // 2 MB of Flate that inflates to 2 GiB: the stack's render process stops at 768 MiB.
    const bomb = await upload(member, flateBombPdf(2 * 1024 ** 3), 'application/pdf', 'bomb.pdf');
    const until = Date.now() + 120_000;
    let answer = await preview(member, bomb.id);
    while (answer.status === 202 && Date.now() < until) answer = await preview(member, bomb.id);
    expect(answer.status, JSON.stringify(answer.body)).toBe(422);
    expect(answer.body.error.code).toBe('PREVIEW_FAILED');
    expect(answer.body.error.details).toMatchObject({ reason: 'resource-limit' });
    expect(JSON.stringify(answer.body)).not.toMatch(/stack|at .+\.ts/);

    const next = await upload(member, await pagesPdf(1), 'application/pdf', 'next.pdf');
    expect((await preview(member, next.id)).status).toBe(200);
  }, 180_000);
});
