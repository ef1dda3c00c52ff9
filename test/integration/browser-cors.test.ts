import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import chromium from '@sparticuz/chromium';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { enforcingArgs, launchBrowser } from '../support/browser.js';

/** A throwaway origin on loopback. */
async function serve(listener: RequestListener): Promise<{ origin: string; server: Server }> {
  const server = createServer(listener);
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

const PAGE: RequestListener = (_req, res) => {
  res.writeHead(200, { 'content-type': 'text/html' });
  res.end('<!doctype html><title>page</title><p>a page</p>');
};

/** What a script on the page gets: the text it could read, or the error the browser threw. */
const readFrom = (page: Page, url: string, init?: RequestInit) =>
  page.evaluate(
    async ([target, options]) => {
      try {
        const res = await fetch(target as string, options as RequestInit | undefined);
        return `read ${res.status}: ${await res.text()}`;
      } catch (error) {
        return `blocked: ${(error as Error).name}`;
      }
    },
    [url, init] as const,
  );

describe('browser tests see what browsers see', () => {
  let browser: Browser;
  let page: Page;
  const servers: Server[] = [];
  let unlisted: string;
  let otherSite: string;

  beforeAll(async () => {
    browser = await launchBrowser();
    page = await (await browser.newContext()).newPage();
    const pageOrigin = await serve(PAGE);
    unlisted = pageOrigin.origin;
    // A server that shares /open with everyone and /closed with no one.
    const other = await serve((req, res) => {
      res.writeHead(200, {
        'content-type': 'text/plain',
        ...(req.url === '/open' ? { 'access-control-allow-origin': '*' } : {}),
      });
      res.end('secret');
    });
    otherSite = other.origin;
    servers.push(pageOrigin.server, other.server);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    for (const server of servers) server.close();
  });

  it('launches Chromium without the flags that turn CORS or site isolation off', () => {
    const args = enforcingArgs(chromium.args);
    expect(chromium.args).toContain('--disable-web-security'); // what is being filtered out
    expect(args).not.toContain('--disable-web-security');
    expect(args).not.toContain('--disable-site-isolation-trials');
    expect(args.join(' ')).not.toMatch(/IsolateOrigins|site-per-process/);
    expect(args).toContain('--disable-features=AudioServiceOutOfProcess');
  });

  it('has a browser that enforces CORS: a page cannot read another origin that does not allow it', async () => {
    // Prepare
    await page.goto(`${unlisted}/`);
    // Act
    const open = await readFrom(page, `${otherSite}/open`);
    const closed = await readFrom(page, `${otherSite}/closed`);
    // Assess: the same server, the same request; only the CORS header differs.
    expect(open).toBe('read 200: secret');
    expect(closed).toBe('blocked: TypeError');
  });

  it('the local API shares its answers with a listed origin and withholds them from any other', async () => {
    const api = inject('apiUrl');
    const tokenRequest: RequestInit = {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ tenantId: 'cors-check', userId: 'alice', roles: ['viewer'] }),
    };
    // Act: the demo page's second origin, which FILESTORE_CORS_ORIGINS lists.
    await page.goto(`${inject('secondOrigin')}/`);
    const listedHealth = await readFrom(page, `${api}/v1/health`);
    const listedToken = await readFrom(page, `${api}/local/token`, tokenRequest);
    // Act: an origin nobody listed.
    await page.goto(`${unlisted}/`);
    const unlistedHealth = await readFrom(page, `${api}/v1/health`);
    const unlistedToken = await readFrom(page, `${api}/local/token`, tokenRequest);
    // Assess
    expect(listedHealth).toMatch(/^read 200: /);
    expect(listedToken).toMatch(/^read 200: \{"token":/);
    expect(unlistedHealth).toBe('blocked: TypeError');
    expect(unlistedToken).toBe('blocked: TypeError');
  });
});
