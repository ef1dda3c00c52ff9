import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { mintDevToken } from '../../local/dev-token.js';
import { client, newTenant } from '../support/api.js';
import { launchBrowser } from '../support/browser.js';

const MiB = 1024 * 1024;

/**
 * The client in a real Chromium (web security on), bytes through XMLHttpRequest on a link
 * throttled to 8 MiB/s so the browser sends progress events as the body goes: a progress bar
 * gets each value once, rising, for a PUT, a POST form and a multipart upload.
 */
describe('client progress in Chromium', () => {
  let browser: Browser;

  beforeAll(async () => {
    browser = await launchBrowser();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });

  it('reports each loaded value once, from 0 to the size, with byte-level XHR progress', async () => {
    // Prepare
    const tenantId = newTenant('bcp');
    const admin = await client(tenantId, 'root', ['admin']);
    const bucketId = (await admin.post('/v1/buckets', { name: 'Progress' })).body.id as string;
    const token = await mintDevToken({ tenantId, userId: 'alice', roles: ['member'] });
    const page = await browser.newPage();
    await page.goto(`${inject('apiUrl')}/`);
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 5,
      downloadThroughput: -1,
      uploadThroughput: 8 * MiB,
    });
    const cases = [
      { name: 'PUT', size: 2_000_000, options: {} },
      { name: 'POST', size: 2_000_000, options: { uploadMethod: 'POST' } },
      { name: 'MULTIPART', size: 9 * MiB + 5, options: { multipart: true } },
    ];
    // Act: a string, so the test runner's transform leaves the page's import() alone.
    const seen = (await page.evaluate(`(async () => {
      const { createStowageClient } = await import('/assets/stowage-client.js');
      const stowage = createStowageClient({ baseUrl: location.origin, getToken: () => ${JSON.stringify(token)} });
      const seen = {};
      for (const c of ${JSON.stringify(cases)}) {
        const loaded = [];
        const file = await stowage.upload(new Blob([new Uint8Array(c.size)]), {
          bucketId: ${JSON.stringify(bucketId)}, filename: c.name + '.bin', ...c.options,
          onProgress: (p) => loaded.push(p.loaded),
        });
        seen[c.name] = { status: file.status, loaded };
      }
      return seen;
    })()`)) as Record<string, { status: string; loaded: number[] }>;
    // Assess
    for (const { name, size } of cases) {
      const { status, loaded } = seen[name] ?? { status: 'missing', loaded: [] };
      expect(status, name).toBe('active');
      expect(loaded[0], name).toBe(0);
      expect(loaded.at(-1), name).toBe(size);
      expect(loaded.length, `${name}: byte-level progress`).toBeGreaterThan(3);
      for (let i = 1; i < loaded.length; i++)
        expect(loaded[i], `${name}: ${loaded.join(', ')}`).toBeGreaterThan(loaded[i - 1] as number);
    }
  });
});
