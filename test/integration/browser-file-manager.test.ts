import { readFile } from 'node:fs/promises';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { client, newTenant } from '../support/api.js';
import { launchBrowser, screenshotPath } from '../support/browser.js';
import { minimalPdf, PNG_1x1 } from '../support/samples.js';

const MiB = 1024 * 1024;

/**
 * The demo page at `/` and the FileManager in a real Chromium (no download: the binary of
 * @sparticuz/chromium, or CHROMIUM_PATH), against the local stack of this test run.
 */
describe('FileManager in a browser', () => {
  const tenantId = newTenant('browser');
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const pageErrors: string[] = [];
  const row = (name: string) => page.locator('tbody tr', { has: page.getByText(name, { exact: true }) });
  const uploadRow = (name: string) =>
    page.locator('.sfm-upload', { has: page.getByText(name, { exact: true }) });

  beforeAll(async () => {
    browser = await launchBrowser();
    context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1200, height: 900 } });
    page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(String(error)));

    // Sign in as an admin of a fresh tenant and create a bucket, as a newcomer would.
    await page.goto(`${inject('apiUrl')}/`);
    await page.getByLabel('Tenant').fill(tenantId);
    await page.getByLabel('User').fill('alice');
    await page.getByLabel('Role').selectOption('admin');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByLabel('Name').fill('Ticket attachments');
    await page
      .getByLabel('Allowed types (empty: any)')
      .fill('application/pdf, image/png, image/jpeg, text/plain');
    await page.getByLabel('Max size (MB)').fill('1');
    await page.getByRole('button', { name: 'Create bucket' }).click();
    await page.getByRole('heading', { name: 'Files for ticket T-1001' }).waitFor();
    await page.getByText('Accepts PDF, PNG, JPEG or plain text, up to 1 MB each.').first().waitFor();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
  });

  it('uploads two files dropped on the zone, shows their progress and lists them', async () => {
    // Prepare: watch every progress value the bars take.
    await page.evaluate(() => {
      const seen: Record<string, number[]> = {};
      (window as any).progressSeen = seen;
      new MutationObserver(() => {
        for (const bar of Array.from(document.querySelectorAll('progress'))) {
          const name = bar.getAttribute('aria-label') ?? '';
          const list = seen[name] ?? [];
          seen[name] = list;
          const value = Math.round((Number(bar.value) / Number(bar.max)) * 100);
          if (list.at(-1) !== value) list.push(value);
        }
      }).observe(document.body, { subtree: true, childList: true, attributes: true });
    });
    const files = [
      { name: 'report.pdf', type: 'application/pdf', base64: minimalPdf('Quarterly').toString('base64') },
      { name: 'pixel.png', type: 'image/png', base64: PNG_1x1.toString('base64') },
    ];
    // Act: a real drop event carrying a DataTransfer, as the browser fires it.
    await page.getByTestId('drop-zone').evaluate((zone, list) => {
      const transfer = new DataTransfer();
      for (const f of list) {
        const bytes = Uint8Array.from(atob(f.base64), (c) => c.charCodeAt(0));
        transfer.items.add(new File([bytes], f.name, { type: f.type }));
      }
      zone.dispatchEvent(
        new DragEvent('dragenter', { bubbles: true, cancelable: true, dataTransfer: transfer }),
      );
      zone.dispatchEvent(
        new DragEvent('dragover', { bubbles: true, cancelable: true, dataTransfer: transfer }),
      );
      zone.dispatchEvent(new DragEvent('drop', { bubbles: true, cancelable: true, dataTransfer: transfer }));
    }, files);
    // Assess
    for (const f of files) {
      await uploadRow(f.name).getByText('Uploaded.').waitFor();
      await row(f.name).waitFor();
      await expect(
        uploadRow(f.name)
          .locator('progress')
          .evaluate((p: HTMLProgressElement) => p.value / p.max),
      ).resolves.toBe(1);
    }
    const seen = await page.evaluate(() => (window as any).progressSeen as Record<string, number[]>);
    expect(seen['Progress of report.pdf']?.at(-1)).toBe(100);
    expect(seen['Progress of pixel.png']?.at(-1)).toBe(100);
    await expect(page.getByRole('status').textContent()).resolves.toMatch(/uploaded/);
    await expect(row('report.pdf').textContent()).resolves.toContain('PDF');
    await expect(row('pixel.png').textContent()).resolves.toContain('you (alice)');
    await page.screenshot({ path: screenshotPath('01-dropped-two-files'), fullPage: true });
  });

  it('shows previews of the PDF and the image', async () => {
    for (const name of ['report.pdf', 'pixel.png']) {
      const img = page.getByRole('img', { name: `Preview of ${name}` });
      await img.waitFor({ timeout: 30_000 });
      await page.waitForFunction(
        (el) => (el as HTMLImageElement).complete && (el as HTMLImageElement).naturalWidth > 0,
        await img.elementHandle(),
      );
      expect(await img.evaluate((el: HTMLImageElement) => el.naturalWidth)).toBeGreaterThan(0);
    }
    await page.screenshot({ path: screenshotPath('02-previews'), fullPage: true });
  });

  it('explains rejected files in plain words: type, size, and content that lies', async () => {
    // Act: the picker, through the file input.
    await page.getByLabel('Choose files to upload').setInputFiles([
      { name: 'setup.exe', mimeType: 'application/x-msdownload', buffer: Buffer.from('MZ\x90\x00') },
      { name: 'huge.pdf', mimeType: 'application/pdf', buffer: Buffer.alloc(2 * MiB, 1) },
      { name: 'fake.png', mimeType: 'image/png', buffer: Buffer.from('this is not an image') },
    ]);
    // Assess
    await expect(
      uploadRow('setup.exe').getByRole('alert').textContent({ timeout: 20_000 }),
    ).resolves.toContain('not accepted here');
    await expect(uploadRow('setup.exe').getByRole('alert').textContent()).resolves.toContain(
      'Allowed: PDF, PNG, JPEG or plain text.',
    );
    await expect(uploadRow('huge.pdf').getByRole('alert').textContent()).resolves.toMatch(
      /too large \(2 MB\).*at most 1 MB/,
    );
    await expect(uploadRow('fake.png').getByRole('alert').textContent({ timeout: 20_000 })).resolves.toMatch(
      /rejected: its content is not really PNG/,
    );
    expect(await row('fake.png').count()).toBe(0);
    await page.screenshot({ path: screenshotPath('03-rejections'), fullPage: true });
  });

  it('downloads a file with its name and bytes', async () => {
    // Prepare
    await page
      .getByLabel('Choose files to upload')
      .setInputFiles([{ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('meeting notes\n') }]);
    await row('notes.txt').waitFor();
    // Act
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      row('notes.txt').getByRole('button', { name: 'Download notes.txt' }).click(),
    ]);
    // Assess
    expect(download.suggestedFilename()).toBe('notes.txt');
    expect(await readFile((await download.path()) as string, 'utf8')).toBe('meeting notes\n');
  });

  it('deletes after confirmation and undoes the delete', async () => {
    const api = await client(tenantId, 'alice', ['admin']);
    // Act: ask, then confirm.
    await row('notes.txt').getByRole('button', { name: 'Delete notes.txt' }).click();
    await row('notes.txt').getByRole('button', { name: 'Keep' }).waitFor();
    await page.screenshot({ path: screenshotPath('04-confirm-delete'), fullPage: true });
    await row('notes.txt').getByRole('button', { name: 'Yes, delete' }).click();
    // Assess: gone from the list, offered for undo, deleted server-side.
    await page.getByRole('button', { name: 'Undo delete of notes.txt' }).waitFor();
    expect(await row('notes.txt').count()).toBe(0);
    const listed = await api.get('/v1/files?status=deleted');
    expect(listed.body.items.map((f: any) => f.originalName)).toEqual(['notes.txt']);
    await page.screenshot({ path: screenshotPath('05-deleted-with-undo'), fullPage: true });
    // Act: undo.
    await page.getByRole('button', { name: 'Undo delete of notes.txt' }).click();
    // Assess
    await row('notes.txt').waitFor();
    expect(await page.getByRole('button', { name: 'Undo delete of notes.txt' }).count()).toBe(0);
    expect((await api.get('/v1/files?status=deleted')).body.items).toEqual([]);
  });

  it('renames a file in place, and the service keeps the new name', async () => {
    const api = await client(tenantId, 'alice', ['admin']);
    // Act
    await row('notes.txt').getByRole('button', { name: 'Rename notes.txt' }).click();
    const field = page.getByLabel('New name for “notes.txt”');
    await field.fill('minutes 2026-12-02.txt');
    await page.getByRole('button', { name: 'Save' }).click();
    // Assess: the row shows the new name, the API answers it, the old one is gone.
    await row('minutes 2026-12-02.txt').waitFor();
    expect(await row('notes.txt').count()).toBe(0);
    const id = await row('minutes 2026-12-02.txt').getAttribute('data-file-id');
    expect((await api.get(`/v1/files/${id}`)).body.originalName).toBe('minutes 2026-12-02.txt');
    await page.getByText('“notes.txt” renamed to “minutes 2026-12-02.txt”.').waitFor();
  });

  it('creates a share link with the expiry chosen, and the link downloads the file', async () => {
    const name = 'minutes 2026-12-02.txt';
    // Act
    await row(name)
      .getByRole('button', { name: `Share link ${name}` })
      .click();
    await page.getByLabel(`Link to “${name}” expires after`).selectOption({ label: '1 hour' });
    await page.getByRole('button', { name: 'Create link' }).click();
    const url = await page.getByLabel(`Share link for “${name}”`).inputValue();
    // Assess: a public link of this stack, living an hour, that redirects to the file's bytes.
    expect(url.startsWith(`${inject('apiUrl')}/v1/shared/`)).toBe(true);
    const api = await client(tenantId, 'alice', ['admin']);
    const id = await row(name).getAttribute('data-file-id');
    const [link] = (await api.get(`/v1/files/${id}/links`)).body.items;
    const lifetime = Date.parse(link.expiresAt) - Date.parse(link.createdAt);
    expect(Math.abs(lifetime - 3_600_000)).toBeLessThan(60_000);
    const shared = await fetch(url, { redirect: 'manual' });
    expect(shared.status).toBe(302);
    const bytes = await fetch(shared.headers.get('location') as string);
    expect(await bytes.text()).toBe('meeting notes\n');
    await page.getByRole('button', { name: 'Done' }).click();
    await row(name)
      .getByRole('button', { name: `Share link ${name}` })
      .waitFor();
  });

  it('opens the file picker from the keyboard on the drop zone', async () => {
    // The native chooser event is unreliable once earlier tests have used this page, so watch
    // what opens it: a click on the multiple-file input (its default, the dialog, is prevented).
    await page.evaluate(() => {
      const input = document.querySelector<HTMLInputElement>('input[type=file]');
      (window as any).__pickerOpened = 0;
      input?.addEventListener('click', (event) => {
        (window as any).__pickerOpened += input.multiple ? 1 : 0;
        event.preventDefault();
      });
    });
    const opened = () => page.evaluate(() => (window as any).__pickerOpened as number);
    await page.getByTestId('drop-zone').focus();
    await page.keyboard.press('Enter');
    await expect.poll(opened).toBe(1);
    await page.keyboard.press(' ');
    await expect.poll(opened).toBe(2);
    expect(pageErrors).toEqual([]);
    await page.screenshot({ path: screenshotPath('06-final'), fullPage: true });
  });
});
