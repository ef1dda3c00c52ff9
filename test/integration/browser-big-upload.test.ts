import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Client, client, newTenant } from '../support/api.js';
import { launchBrowser, screenshotPath } from '../support/browser.js';

const MiB = 1024 * 1024;
const PART = 8 * MiB;
const isPartPut = (method: string, url: string) =>
  method === 'PUT' && /[?&]partNumber=\d+/.test(url) && /[?&]uploadId=/.test(url);
const partNumberOf = (url: string) => Number(/[?&]partNumber=(\d+)/.exec(url)?.[1]);

/**
 * A big upload in a real Chromium (web security on) that the person interrupts by reloading the
 * page: the FileManager, given the same file again, offers "Resume", and only the parts storage
 * lacks are sent, from the record the client kept in localStorage.
 */
describe('FileManager resumes a big upload after a reload', () => {
  const tenantId = newTenant('bigb');
  let browser: Browser;
  let page: Page;
  let admin: Client;
  let dir: string;
  let path: string;
  const size = 13 * PART + 4321; // 14 parts, above the 100 MiB multipart threshold

  const signIn = async () => {
    await page.goto(`${inject('apiUrl')}/`);
    await page.getByLabel('Tenant').fill(tenantId);
    await page.getByLabel('User').fill('alice');
    await page.getByLabel('Role').selectOption('admin');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Files for ticket T-1001' }).waitFor();
  };
  const storedRecords = () =>
    page.evaluate(() =>
      Object.keys(localStorage)
        .filter((k) => k.startsWith('stowage-upload:'))
        .map((k) => JSON.parse(localStorage.getItem(k) as string) as { fileId: string }),
    );

  beforeAll(async () => {
    admin = await client(tenantId, 'alice', ['admin']);
    await admin.post('/v1/buckets', { name: 'Big files' });
    dir = await mkdtemp(join(tmpdir(), 'stowage-browser-big-'));
    path = join(dir, 'survey.bin');
    const bytes = Buffer.alloc(size);
    for (let i = 0; i < size; i += 4096) bytes.writeUInt32LE(i, i);
    await writeFile(path, bytes);
    browser = await launchBrowser();
    page = await (await browser.newContext({ viewport: { width: 1200, height: 900 } })).newPage();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('offers Resume for the same file after a reload and sends only the missing parts', async () => {
    // Prepare: parts travel slowly (a delay before each), so the reload lands mid-upload.
    await signIn();
    // Parts held back when the page reloads never go (a dead page sends nothing).
    let reloading = false;
    await page.route(
      (url) => /[?&]partNumber=\d+/.test(url.href),
      async (route) => {
        await new Promise((done) => setTimeout(done, 400));
        await (reloading ? route.abort() : route.continue()).catch(() => undefined);
      },
    );
    await page.getByLabel('Choose files to upload').setInputFiles(path);
    let held: number[] = [];
    let fileId = '';
    for (let i = 0; i < 100 && held.length < 3; i++) {
      await page.waitForTimeout(200);
      const [record] = await storedRecords();
      if (!record) continue;
      fileId = record.fileId;
      const res = await admin.get(`/v1/files/${fileId}/upload`);
      held = (res.body.uploaded ?? []).map((p: { partNumber: number }) => p.partNumber);
    }
    const diag = `${await page
      .locator('.sfm-uploads')
      .innerText()
      .catch(() => 'no uploads')} ${JSON.stringify(await storedRecords())}`;
    expect(held.length, diag).toBeGreaterThanOrEqual(3);

    // Act: reload (the upload dies with the page), sign in again, give the same file again.
    reloading = true;
    await page.unrouteAll({ behavior: 'wait' });
    await page.reload();
    await signIn();
    const stored = (await admin.get(`/v1/files/${fileId}/upload`)).body.uploaded.map(
      (p: { partNumber: number }) => p.partNumber,
    ) as number[];
    const puts: number[] = [];
    page.on('request', (req) => {
      if (isPartPut(req.method(), req.url())) puts.push(partNumberOf(req.url()));
    });
    await page.getByLabel('Choose files to upload').setInputFiles(path);
    const resumeButton = page.getByRole('button', { name: 'Resume upload of survey.bin' });
    await resumeButton.waitFor();
    await expect(
      page.getByRole('button', { name: 'Start over upload of survey.bin' }).isVisible(),
    ).resolves.toBe(true);
    await page.screenshot({ path: screenshotPath('big-01-resume-offered'), fullPage: true });
    await resumeButton.click();
    await page.locator('.sfm-upload[data-state="done"]').waitFor({ timeout: 60_000 });

    // Assess
    const all = Array.from({ length: 14 }, (_, i) => i + 1);
    expect(puts.sort((a, b) => a - b)).toEqual(all.filter((n) => !stored.includes(n)));
    const file = (await admin.get(`/v1/files/${fileId}`)).body;
    expect(file).toMatchObject({ status: 'active', size, originalName: 'survey.bin' });
    expect(await storedRecords()).toEqual([]);
    await page.screenshot({ path: screenshotPath('big-02-resumed'), fullPage: true });
  }, 120_000);
});
