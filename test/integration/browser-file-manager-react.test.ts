import { join } from 'node:path';
import { build } from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { client, newTenant } from '../support/api.js';
import { launchBrowser, screenshotPath } from '../support/browser.js';
import { repoRoot } from '../support/package-tarball.js';

const PAGE_ENTRY = join(repoRoot, 'test/support/file-manager-page.tsx');
// React 18 lives in its own workspace so it never shadows the repository's React 19.
const REACT_18 = join(repoRoot, 'test/react-18/node_modules');

/** The same page bundled as an app would: with the repository's React 19, or every import of React aliased to 18. */
async function bundlePage(react: 18 | 19) {
  const alias =
    react === 18 ? { react: join(REACT_18, 'react'), 'react-dom': join(REACT_18, 'react-dom') } : undefined;
  const result = await build({
    entryPoints: [PAGE_ENTRY],
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
 * Issue 12: the FileManager works with React 18 and 19. One page, bundled twice, opened in
 * Chromium on the stack's origin in place of the demo's script (every API call and upload goes
 * to the real stack), renders, uploads a file and lists it.
 */
describe.each([19, 18] as const)('FileManager with React %i', (react) => {
  const tenantId = newTenant(`react${react}`);
  let browser: Browser;
  let page: Page;
  let bucketId: string;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    // Prepare: a bucket for text files, a member's token, the page bundled for this React.
    const admin = await client(tenantId, 'admin', ['admin']);
    const bucket = await admin.post('/v1/buckets', {
      name: `Orders ${react}`,
      allowedMimeTypes: ['text/plain'],
    });
    expect(bucket.status).toBe(201);
    bucketId = bucket.body.id;
    const member = await client(tenantId, 'bob', ['member']);
    const bundled = await bundlePage(react);
    expect(bundled.reactInputs).toEqual(
      react === 18
        ? ['test/react-18/node_modules/react/index.js', 'test/react-18/node_modules/react-dom/index.js']
        : ['node_modules/react/index.js', 'node_modules/react-dom/index.js'],
    );

    const apiUrl = inject('apiUrl');
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1100, height: 700 } });
    page.on('pageerror', (error) => pageErrors.push(String(error)));
    page.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(message.text());
    });
    // The document is the stack's own page (Chromium lets a page served from loopback reach the
    // loopback store; a document Playwright made up would count as public); its script is ours.
    await page.addInitScript(
      (config) => {
        (window as unknown as { fileManagerPage: unknown }).fileManagerPage = config;
      },
      { apiUrl, token: member.token, bucketId },
    );
    await page.route(`${apiUrl}/assets/demo.js`, (route) =>
      route.fulfill({ contentType: 'text/javascript; charset=utf-8', body: bundled.js }),
    );
    await page.goto(`${apiUrl}/`);
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
