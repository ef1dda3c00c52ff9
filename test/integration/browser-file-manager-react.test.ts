import { join } from 'node:path';
import { build } from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { client, newTenant } from '../support/api.js';
import { launchBrowser, screenshotPath } from '../support/browser.js';
import { repoRoot } from '../support/package-tarball.js';

const PAGE = join(repoRoot, 'test/support/file-manager-page.tsx');
const OWN_UI_PAGE = join(repoRoot, 'test/support/file-manager-own-ui-page.tsx');
// React 18 lives in its own workspace so it never shadows the repository's React 19.
const REACT_18 = join(repoRoot, 'test/react-18/node_modules');

/** A page bundled as an app would: with the repository's React 19, or every import of React aliased to 18. */
async function bundlePage(entry: string, react: 18 | 19) {
  const alias =
    react === 18 ? { react: join(REACT_18, 'react'), 'react-dom': join(REACT_18, 'react-dom') } : undefined;
  const result = await build({
    entryPoints: [entry],
    absWorkingDir: repoRoot,
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    jsx: 'automatic',
    conditions: ['@stowage/source'],
    define: { 'process.env.NODE_ENV': '"production"' },
    alias,
    metafile: true,
    logLevel: 'silent',
  });
  const reactInputs = Object.keys(result.metafile.inputs).filter((p) => /\/react(-dom)?\/index\.js$/.test(p));
  return { js: result.outputFiles[0]?.text ?? '', reactInputs };
}

/**
 * Chromium on the stack's own page with its script replaced by the app's bundle (Chromium lets a
 * page served from loopback reach the loopback store; a document Playwright made up would count
 * as public). Every API call and upload goes to the real stack.
 */
async function openApp(entry: string, react: 18 | 19, config: { token: string; bucketId: string }) {
  const bundled = await bundlePage(entry, react);
  expect(bundled.reactInputs).toEqual(
    react === 18
      ? ['test/react-18/node_modules/react/index.js', 'test/react-18/node_modules/react-dom/index.js']
      : ['node_modules/react/index.js', 'node_modules/react-dom/index.js'],
  );
  const apiUrl = inject('apiUrl');
  const browser = await launchBrowser();
  const page = await browser.newPage({ viewport: { width: 1100, height: 700 } });
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(String(error)));
  page.on('console', (message) => {
    if (message.type() === 'error') pageErrors.push(message.text());
  });
  await page.addInitScript(
    (pageConfig) => {
      (window as unknown as { fileManagerPage: unknown }).fileManagerPage = pageConfig;
    },
    { apiUrl, ...config },
  );
  await page.route(`${apiUrl}/assets/demo.js`, (route) =>
    route.fulfill({ contentType: 'text/javascript; charset=utf-8', body: bundled.js }),
  );
  await page.goto(`${apiUrl}/`);
  return { browser, page, pageErrors };
}

/** A tenant with a bucket for text files and a member's token. */
async function textBucket(tenantId: string, name: string) {
  const admin = await client(tenantId, 'admin', ['admin']);
  const bucket = await admin.post('/v1/buckets', { name, allowedMimeTypes: ['text/plain'] });
  expect(bucket.status).toBe(201);
  const member = await client(tenantId, 'bob', ['member']);
  return { bucketId: bucket.body.id as string, member };
}

/**
 * Issue 12: the FileManager works with React 18 and 19. One page, bundled twice, renders,
 * uploads a file and lists it.
 */
describe.each([19, 18] as const)('FileManager with React %i', (react) => {
  const tenantId = newTenant(`react${react}`);
  let browser: Browser;
  let page: Page;
  let bucketId: string;
  let pageErrors: string[];

  beforeAll(async () => {
    // Prepare: a bucket for text files, a member's token, the page bundled for this React.
    const made = await textBucket(tenantId, `Orders ${react}`);
    bucketId = made.bucketId;
    ({ browser, page, pageErrors } = await openApp(PAGE, react, { token: made.member.token, bucketId }));
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
  });

  it('renders with that React, labelled as with any other', async () => {
    await page.getByRole('heading', { name: 'Files for order O-7' }).waitFor();
    expect(await page.locator('html').getAttribute('data-react')).toMatch(new RegExp(`^${react}\\.`));
    await page.getByText('Accepts plain text, up to 5 GB each.').waitFor();
    await page.getByText('No files yet.').waitFor();
    expect(await page.getByRole('button', { name: /Drop files here/ }).count()).toBe(1);
  });

  it('uploads a file from the picker and lists it, as the service stored it', async () => {
    // Act
    await page
      .getByLabel('Choose files to upload')
      .setInputFiles([
        { name: 'invoice.txt', mimeType: 'text/plain', buffer: Buffer.from(`React ${react}\n`) },
      ]);
    // Assess: done in the upload list, a row in the table, active with its reference server-side.
    const upload = page.locator('.sfm-upload', { has: page.getByText('invoice.txt', { exact: true }) });
    await upload.getByText('Uploaded.').waitFor({ timeout: 30_000 });
    const row = page.locator('tbody tr', { has: page.getByText('invoice.txt', { exact: true }) });
    await row.waitFor();
    expect(await row.textContent()).toContain('you (bob)');
    const api = await client(tenantId, 'bob', ['member']);
    const listed = await api.get(`/v1/files?bucketId=${bucketId}&entityType=order&entityId=O-7`);
    expect(
      listed.body.items.map((f: { originalName: string; status: string }) => [f.originalName, f.status]),
    ).toEqual([['invoice.txt', 'active']]);
    await expect(page.getByRole('status').textContent()).resolves.toBe('“invoice.txt” uploaded.');
    expect(pageErrors).toEqual([]);
    await page.screenshot({ path: screenshotPath(`file-manager-react-${react}`), fullPage: true });
  });
});

/** Issue 12: an app's own UI on `useFileList` and `useUploads`, with the older React. */
describe('An app of its own on useFileList and useUploads (React 18)', () => {
  const tenantId = newTenant('hooks');
  let browser: Browser;
  let page: Page;
  let bucketId: string;
  let pageErrors: string[];

  beforeAll(async () => {
    const made = await textBucket(tenantId, 'Order attachments');
    bucketId = made.bucketId;
    ({ browser, page, pageErrors } = await openApp(OWN_UI_PAGE, 18, { token: made.member.token, bucketId }));
    await page.getByText('0 attached').waitFor();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
  });

  it("uploads and explains a refusal in the app's markup, and the list follows", async () => {
    // Act
    await page.getByLabel('Attach to the order').setInputFiles([
      { name: 'terms.txt', mimeType: 'text/plain', buffer: Buffer.from('net 30\n') },
      { name: 'photo.png', mimeType: 'image/png', buffer: Buffer.from('not allowed here') },
    ]);
    // Assess
    const sending = page.getByRole('list', { name: 'Sending' });
    await sending.locator('li[data-state="done"]', { hasText: 'terms.txt: Uploaded.' }).waitFor();
    await expect(
      sending.locator('li[data-state="failed"]').textContent({ timeout: 20_000 }),
    ).resolves.toContain('“photo.png” is a type of file not accepted here (PNG). Allowed: plain text.');
    await page.getByText('1 attached').waitFor();
    expect(await page.getByRole('list', { name: 'Attached' }).textContent()).toContain('terms.txt');
  });

  it('detaches through the hook: gone from the list and deleted on the service', async () => {
    // Act
    await page.getByRole('button', { name: 'Detach terms.txt' }).click();
    // Assess
    await page.getByText('0 attached').waitFor();
    const api = await client(tenantId, 'bob', ['member']);
    const active = await api.get(`/v1/files?bucketId=${bucketId}&entityType=order&entityId=O-8`);
    expect(active.body.items).toEqual([]);
    const deleted = await api.get(`/v1/files?bucketId=${bucketId}&status=deleted`);
    expect(deleted.body.items.map((f: { originalName: string }) => f.originalName)).toEqual(['terms.txt']);
    // Chromium logs the refused initiate of photo.png (415); nothing else went wrong.
    expect(pageErrors.filter((e) => !e.includes('status of 415'))).toEqual([]);
  });
});
