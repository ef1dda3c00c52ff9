import { readFile } from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { newTenant } from '../support/api.js';
import { launchBrowser, screenshotPath } from '../support/browser.js';
import { PNG_1x1 } from '../support/samples.js';

/**
 * The FileManager embedded in a page of another origin, as a customer's app would embed it:
 * every call to the API and every upload to the store is cross-origin, in a browser that
 * enforces CORS. It works only because the stack answers CORS for that origin.
 */
describe('FileManager on a second origin', () => {
  const tenantId = newTenant('origin');
  const secondOrigin = inject('secondOrigin');
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];
  const crossOrigin: string[] = [];
  const row = (name: string) => page.locator('tbody tr', { has: page.getByText(name, { exact: true }) });

  beforeAll(async () => {
    browser = await launchBrowser();
    const context = await browser.newContext({
      acceptDownloads: true,
      viewport: { width: 1200, height: 900 },
    });
    page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(String(error)));
    page.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(message.text());
    });
    page.on('request', (request) => {
      if (!request.url().startsWith(secondOrigin))
        crossOrigin.push(`${request.method()} ${new URL(request.url()).origin}`);
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
  });

  it('signs in, creates a bucket, uploads, lists and downloads across origins', async () => {
    // Prepare: the page is not served by the stack.
    await page.goto(`${secondOrigin}/`);
    expect(new URL(page.url()).origin).not.toBe(new URL(inject('apiUrl')).origin);
    // Act: sign in and create a bucket (POSTs with JSON: preflighted).
    await page.getByLabel('Tenant').fill(tenantId);
    await page.getByLabel('User').fill('alice');
    await page.getByLabel('Role').selectOption('admin');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByLabel('Name').fill('Cross-origin attachments');
    await page.getByLabel('Allowed types (empty: any)').fill('image/png, text/plain');
    await page.getByRole('button', { name: 'Create bucket' }).click();
    await page.getByRole('heading', { name: 'Files for ticket T-1001' }).waitFor();
    // Act: upload through the picker, straight to the store.
    await page.getByLabel('Choose files to upload').setInputFiles([
      { name: 'pixel.png', mimeType: 'image/png', buffer: PNG_1x1 },
      { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('cross-origin notes\n') },
    ]);
    await row('pixel.png').waitFor({ timeout: 30_000 });
    await row('notes.txt').waitFor({ timeout: 30_000 });
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      row('notes.txt').getByRole('button', { name: 'Download notes.txt' }).click(),
    ]);
    // Assess
    expect(await readFile((await download.path()) as string, 'utf8')).toBe('cross-origin notes\n');
    const apiOrigin = new URL(inject('apiUrl')).origin;
    const storeOrigin = new URL(inject('s3Endpoint')).origin;
    expect(crossOrigin).toEqual(expect.arrayContaining([`POST ${apiOrigin}`, `GET ${apiOrigin}`]));
    expect(crossOrigin.some((r) => r.endsWith(storeOrigin))).toBe(true);
    expect(pageErrors).toEqual([]);
    await page.screenshot({ path: screenshotPath('second-origin-uploaded'), fullPage: true });
  });
});
