import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BuildOptions, build } from 'esbuild';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Client, client, newTenant } from '../support/api.js';
import { launchBrowser, screenshotPath } from '../support/browser.js';
import { repoRoot } from '../support/package-tarball.js';
import { PNG_1x1 } from '../support/samples.js';
import type { UppyPageConfig, UppyPageEvent } from '../support/uppy-page.js';

const MiB = 1024 * 1024;
const PART = 8 * MiB; // the stack's minimum part size
const isPartPut = (method: string, url: string) =>
  method === 'PUT' && /[?&]partNumber=\d+/.test(url) && /[?&]uploadId=/.test(url);
const partNumberOf = (url: string) => Number(/[?&]partNumber=(\d+)/.exec(url)?.[1]);

/** The test page's code and styles: the real Uppy packages and @stowage/uppy from its sources. */
async function bundlePage(): Promise<{ js: string; css: string }> {
  const common = {
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: ['es2022'],
    conditions: ['@stowage/source'],
    logLevel: 'silent',
  } satisfies BuildOptions;
  const [js, css] = await Promise.all([
    build({ ...common, entryPoints: [join(repoRoot, 'test/support/uppy-page.ts')] }),
    build({
      ...common,
      stdin: {
        contents: '@import "@uppy/core/css/style.min.css"; @import "@uppy/dashboard/css/style.min.css";',
        loader: 'css',
        resolveDir: repoRoot,
      },
    }),
  ]);
  return { js: js.outputFiles?.[0]?.text ?? '', css: css.outputFiles?.[0]?.text ?? '' };
}

const HTML = `<!doctype html><html><head><meta charset="utf-8"><title>Uppy and Stowage</title>
<link rel="stylesheet" href="/uppy-test/uppy.css"></head>
<body><div id="uploads"></div><script type="module" src="/uppy-test/page.js"></script></body></html>`;

/**
 * Uppy 6 with the Dashboard uploading through @stowage/uppy in a real Chromium (web security on)
 * against the local stack of this run. The page runs on the stack's own origin (as `npm start`
 * serves its page), so every API call and every byte sent to storage is a real request the
 * browser checks.
 */
describe('Uppy uploads through Stowage in a browser', () => {
  const tenantId = newTenant('uppy');
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let admin: Client;
  let dir: string;
  let bucketId: string;
  const pageErrors: string[] = [];
  const apiUrl = inject('apiUrl');

  const openPage = async (overrides: Partial<UppyPageConfig> = {}) => {
    // A document the stack itself served (Chromium then knows the page is on loopback, as the
    // store is, and lets it send there), replaced by the test page.
    await page.goto(`${apiUrl}/v1/health`);
    await page.setContent(HTML);
    const config: UppyPageConfig = {
      apiUrl,
      token: admin.token,
      bucketId,
      references: [{ entityType: 'ticket', entityId: 'T-7' }],
      multipartThreshold: 2 * PART,
      goldenRetriever: false,
      uppyId: 'uppy-test',
      ...overrides,
    };
    await page.waitForFunction(() => typeof window.startUppy === 'function');
    await page.evaluate((c) => window.startUppy(c), config);
    await page.locator('.uppy-Dashboard').waitFor();
  };
  const events = () => page.evaluate(() => window.uppyEvents) as Promise<UppyPageEvent[]>;
  const addFiles = (files: Parameters<Page['setInputFiles']>[1]) =>
    page.locator('.uppy-Dashboard-input').first().setInputFiles(files);
  const clickUpload = () => page.locator('.uppy-StatusBar-actionBtn--upload').click();
  const fileIdOf = (name: string) =>
    page.evaluate(
      (n) =>
        (window.uppy.getFiles().find((f) => f.name === n) as { stowage?: { fileId: string | null } })?.stowage
          ?.fileId ?? null,
      name,
    );
  const bigText = (size: number) => {
    const line = Buffer.from('Quarterly figures, one line after another.\n');
    const bytes = Buffer.alloc(size);
    for (let i = 0; i < size; i += line.length) line.copy(bytes, i);
    return bytes;
  };

  beforeAll(async () => {
    admin = await client(tenantId, 'alice', ['admin']);
    const bucket = await admin.post('/v1/buckets', {
      name: 'Uppy uploads',
      allowedMimeTypes: ['text/plain', 'image/png'],
      maxFileSize: 64 * MiB,
    });
    expect(bucket.status).toBe(201);
    bucketId = bucket.body.id;
    dir = await mkdtemp(join(tmpdir(), 'stowage-uppy-'));
    const { js, css } = await bundlePage();
    browser = await launchBrowser();
    context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
    await context.route(`${apiUrl}/uppy-test/**`, (route) => {
      const path = new URL(route.request().url()).pathname;
      if (path.endsWith('.js')) return route.fulfill({ contentType: 'text/javascript', body: js });
      return route.fulfill({ contentType: 'text/css', body: css });
    });
    page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(String(error)));
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('uploads a file with one PUT and a bigger one in parts, and shows why Stowage refused two others', async () => {
    // Prepare: 2 parts and a bit (the threshold lowered to two parts), a PNG, an .exe the bucket
    // refuses at initiate, and text posing as a PNG that it rejects once the bytes arrived.
    const bigSize = 2 * PART + 1234;
    await openPage();
    const parts: number[] = [];
    let singlePuts = 0;
    page.on('request', (req) => {
      if (isPartPut(req.method(), req.url())) parts.push(partNumberOf(req.url()));
      else if (req.method() === 'PUT' && !req.url().startsWith(apiUrl)) singlePuts++;
    });
    // Act: add through the Dashboard's file input, press its Upload button.
    await addFiles([
      { name: 'figures.txt', mimeType: 'text/plain', buffer: bigText(bigSize) },
      { name: 'pixel.png', mimeType: 'image/png', buffer: PNG_1x1 },
      { name: 'setup.exe', mimeType: 'application/x-msdownload', buffer: Buffer.from('MZ\x90\x00') },
      { name: 'fake.png', mimeType: 'image/png', buffer: Buffer.from('this is not an image') },
    ]);
    await clickUpload();
    await page.locator('.uppy-StatusBar.is-error, .uppy-StatusBar.is-complete').waitFor({ timeout: 60_000 });
    await page.waitForFunction(
      () =>
        window.uppyEvents.filter((e) => e.type === 'upload-success' || e.type === 'upload-error').length >= 4,
      undefined,
      { timeout: 60_000 },
    );
    await page.screenshot({ path: screenshotPath('uppy-01-two-uploaded-two-refused'), fullPage: true });

    // Assess: the two good files are active in Stowage, attached to the ticket.
    const seen = await events();
    const success = (name: string) =>
      seen.find((e) => e.type === 'upload-success' && e.name === name)?.body as { id: string } | undefined;
    for (const [name, size] of [
      ['figures.txt', bigSize],
      ['pixel.png', PNG_1x1.length],
    ] as const) {
      const id = success(name)?.id;
      expect(id, `${name}: ${JSON.stringify(seen.filter((e) => e.type !== 'upload-progress'))}`).toBeTruthy();
      const file = (await admin.get(`/v1/files/${id}`)).body;
      expect(file).toMatchObject({ status: 'active', size, originalName: name });
      expect(file.references).toEqual([{ entityType: 'ticket', entityId: 'T-7' }]);
    }
    // The big one went in parts: three of them, each once; the PNG and the spoof in one PUT each.
    expect(parts.sort((a, b) => a - b)).toEqual([1, 2, 3]);
    expect(singlePuts).toBe(2);
    // Progress reached the whole file, and never went back.
    const progress = seen.filter((e) => e.type === 'upload-progress' && e.name === 'figures.txt');
    expect(progress.at(-1)?.bytesUploaded).toBe(bigSize);
    const values = progress.map((e) => e.bytesUploaded ?? 0);
    expect(values).toEqual([...values].sort((a, b) => a - b));
    // The refusals are restriction errors with Stowage's words, shown on the page.
    const exe = seen.find((e) => e.type === 'upload-error' && e.name === 'setup.exe');
    expect(exe).toMatchObject({ code: 'MIME_TYPE_NOT_ALLOWED', isRestriction: true });
    const fake = seen.find((e) => e.type === 'upload-error' && e.name === 'fake.png');
    expect(fake).toMatchObject({ code: 'MIME_TYPE_MISMATCH', isRestriction: true });
    expect(fake?.message).toContain('its content is not the type its name says');
    expect(
      seen
        .filter((e) => e.type === 'restriction-failed')
        .map((e) => e.name)
        .sort(),
    ).toEqual(['fake.png', 'setup.exe']);
    const fileErrors = await page.evaluate(() =>
      Object.fromEntries(window.uppy.getFiles().map((f) => [f.name, f.error ?? null])),
    );
    expect(fileErrors['setup.exe']).toBe(exe?.message);
    expect(fileErrors['figures.txt']).toBeNull();
    // The Dashboard's "?" beside each refused file carries the message (and alerts it on click).
    for (const refused of [exe, fake])
      await expect(
        page.getByRole('button', { name: refused?.message as string, exact: true }).isVisible(),
      ).resolves.toBe(true);
    expect(pageErrors).toEqual([]);
  }, 120_000);

  it('cancels an upload when the file is removed, and nothing stays reserved on the service', async () => {
    // Prepare: parts are held back, so the upload is under way when the person removes it.
    const path = join(dir, 'drafts.txt');
    await writeFile(path, bigText(2 * PART + 99));
    await openPage();
    await page.route(
      (url) => /[?&]partNumber=\d+/.test(url.href),
      async (route) => {
        await new Promise((done) => setTimeout(done, 3_000));
        await route.abort().catch(() => undefined);
      },
    );
    await addFiles(path);
    await clickUpload();
    let fileId: string | null = null;
    for (let i = 0; i < 100 && !fileId; i++) {
      await page.waitForTimeout(100);
      fileId = await fileIdOf('drafts.txt');
    }
    expect(fileId).toBeTruthy();
    const reservedDuring = (await admin.get('/v1/quota')).body.reservedBytes;
    expect(reservedDuring).toBeGreaterThanOrEqual(2 * PART);
    // Act: what the Dashboard's remove button calls.
    await page.evaluate(() => window.uppy.removeFile(window.uppy.getFiles()[0]?.id as string));
    // Assess: the pending file is abandoned (gone) and its bytes released.
    let status = 200;
    for (let i = 0; i < 100 && status !== 404; i++) {
      await page.waitForTimeout(100);
      status = (await admin.get(`/v1/files/${fileId}`)).status;
    }
    expect(status).toBe(404);
    expect((await admin.get('/v1/quota')).body.reservedBytes).toBe(0);
    expect((await events()).filter((e) => e.type === 'upload-error')).toEqual([]);
    await page.unrouteAll({ behavior: 'ignoreErrors' });
  }, 60_000);
  // Golden Retriever keeps a file's bytes in IndexedDB up to 10 MiB (its default): a smaller
  // upload comes back whole and goes on with a click; a bigger one comes back as a "ghost" the
  // person re-selects. Either way only the parts storage lacks are sent.
  it.each([
    { name: 'minutes.txt', size: PART + 1536 * 1024, reselect: false, missing: [2] },
    { name: 'survey.txt', size: 2 * PART + 777, reselect: true, missing: [2, 3] },
  ])(
    'resumes $name after a reload with Golden Retriever, sending only parts $missing',
    async ({ name, size, reselect, missing }) => {
      // Prepare: part 1 arrives, the others hang until the page goes away (a tab closed mid-upload).
      const path = join(dir, name);
      await writeFile(path, bigText(size));
      const config = { goldenRetriever: true, uppyId: `restore-${name}`, multipartThreshold: PART };
      await openPage(config);
      let release: () => void = () => undefined;
      const closing = new Promise<void>((done) => {
        release = done;
      });
      await page.route(
        (url) => /[?&]partNumber=\d+/.test(url.href),
        async (route) => {
          if (partNumberOf(route.request().url()) === 1) return route.continue();
          await closing;
          await route.abort().catch(() => undefined);
        },
      );
      await addFiles(path);
      await clickUpload();
      let fileId: string | null = null;
      let stored: number[] = [];
      for (let i = 0; i < 200 && !stored.includes(1); i++) {
        await page.waitForTimeout(100);
        fileId ??= await fileIdOf(name);
        if (fileId)
          stored = ((await admin.get(`/v1/files/${fileId}/upload`)).body.uploaded ?? []).map(
            (p: { partNumber: number }) => p.partNumber,
          );
      }
      expect(stored).toEqual([1]);

      // Act: the page goes away and comes back; Golden Retriever restores the upload.
      release();
      await page.unrouteAll({ behavior: 'wait' });
      await openPage(config);
      await page.waitForFunction(() => window.uppy.getState().recoveredState != null, undefined, {
        timeout: 20_000,
      });
      await page.screenshot({ path: screenshotPath(`uppy-02-restored-${name}`), fullPage: true });
      const puts: number[] = [];
      page.on('request', (req) => {
        if (isPartPut(req.method(), req.url())) puts.push(partNumberOf(req.url()));
      });
      if (reselect) {
        await page.getByRole('button', { name: 'Re-select' }).click(); // opens the add-files panel
        await addFiles(path);
      } else expect(await page.getByRole('button', { name: 'Re-select' }).count()).toBe(0);
      await clickUpload();
      await page.waitForFunction(
        () => window.uppyEvents.some((e) => e.type === 'upload-success' || e.type === 'upload-error'),
        undefined,
        { timeout: 60_000 },
      );

      // Assess: the same Stowage file, completed with the parts it lacked.
      const seen = await events();
      expect(seen.find((e) => e.type === 'stowage:resumed')).toMatchObject({ name, partsStored: 1 });
      const done = seen.find((e) => e.type === 'upload-success')?.body as { id: string } | undefined;
      expect(done?.id, JSON.stringify(seen.filter((e) => e.type !== 'upload-progress'))).toBe(fileId);
      expect(puts.sort((a, b) => a - b)).toEqual(missing);
      expect((await admin.get(`/v1/files/${fileId}`)).body).toMatchObject({ status: 'active', size });
      await page.screenshot({ path: screenshotPath(`uppy-03-resumed-${name}`), fullPage: true });
    },
    120_000,
  );
});

/** The demo page at `/` (what `npm start` serves): its Uppy tab beside the FileManager. */
describe('the demo page has an Uppy tab next to the FileManager', () => {
  const tenantId = newTenant('uppydemo');
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    browser = await launchBrowser();
    page = await (await browser.newContext({ viewport: { width: 1200, height: 1000 } })).newPage();
    page.on('pageerror', (error) => pageErrors.push(String(error)));
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
  });

  it('uploads through the Uppy tab, and the FileManager tab lists the file for the same ticket', async () => {
    // Prepare: sign in and create a bucket, as a newcomer would.
    await page.goto(`${inject('apiUrl')}/`);
    await page.getByLabel('Tenant').fill(tenantId);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByLabel('Name').fill('Compare uploaders');
    await page.getByRole('button', { name: 'Create bucket' }).click();
    await page.getByRole('heading', { name: 'Files for ticket T-1001' }).waitFor();
    // Act: the Uppy tab, its Dashboard, its Upload button.
    await page.getByRole('tab', { name: 'Uppy' }).click();
    await page.locator('.uppy-Dashboard').waitFor();
    expect(await page.getByRole('heading', { name: 'Files for ticket T-1001' }).isVisible()).toBe(false);
    await page
      .locator('.uppy-Dashboard-input')
      .first()
      .setInputFiles({
        name: 'from-uppy.txt',
        mimeType: 'text/plain',
        buffer: Buffer.from('sent by Uppy\n'),
      });
    await page.locator('.uppy-StatusBar-actionBtn--upload').click();
    await page.locator('.uppy-StatusBar.is-complete').waitFor({ timeout: 30_000 });
    await page.screenshot({ path: screenshotPath('uppy-demo-01-uppy-tab'), fullPage: true });
    // Assess: back on the FileManager tab, the file is there, attached to the ticket.
    await page.getByRole('tab', { name: 'FileManager' }).click();
    await page.locator('tbody tr', { has: page.getByText('from-uppy.txt', { exact: true }) }).waitFor();
    const api = await client(tenantId, 'alice', ['admin']);
    const listed = await api.get('/v1/entities/ticket/T-1001/files');
    expect(listed.body.items.map((f: { originalName: string }) => f.originalName)).toEqual(['from-uppy.txt']);
    expect(pageErrors).toEqual([]);
  }, 90_000);
});
