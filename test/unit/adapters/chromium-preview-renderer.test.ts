import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  chromiumAvailable,
  createChromiumPreviewRenderer,
} from '../../../shared/adapters/preview/chromium-preview-renderer.js';
import { createCompositePreviewRenderer } from '../../../shared/adapters/preview/composite-preview-renderer.js';
import { darkShare, decodeImage } from '../../support/preview-samples.js';

/**
 * SVG, text, Markdown, CSV and HTML drawn by Chromium (@sparticuz/chromium's binary, or
 * CHROMIUM_PATH), with scripts, network and navigation off: a local server counts every
 * request a document tries to make.
 */
const available = chromiumAvailable(process.env.CHROMIUM_PATH || null);
const text = (s: string) => new TextEncoder().encode(s);

/** The share of pixels close to this colour. */
function share(png: Awaited<ReturnType<typeof decodeImage>>, [r, g, b]: [number, number, number]) {
  let hits = 0;
  for (let i = 0; i < png.pixels.length; i += 4)
    if (
      Math.abs((png.pixels[i] as number) - r) < 40 &&
      Math.abs((png.pixels[i + 1] as number) - g) < 40 &&
      Math.abs((png.pixels[i + 2] as number) - b) < 40
    )
      hits++;
  return hits / (png.pixels.length / 4);
}

describe.skipIf(!available)('the Chromium preview renderer', () => {
  const renderer = createChromiumPreviewRenderer({
    executablePath: process.env.CHROMIUM_PATH || null,
    timeoutMs: 15_000,
  });
  let server: Server;
  let origin = '';
  const requests: string[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      requests.push(req.url ?? '');
      res
        .writeHead(200, { 'content-type': 'image/svg+xml' })
        .end('<svg xmlns="http://www.w3.org/2000/svg"/>');
    });
    await new Promise<void>((go) => server.listen(0, '127.0.0.1', go));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await renderer.close();
    await new Promise((done) => server.close(done));
  });

  it('draws an SVG, with its scripts, event handlers and external resources off', async () => {
    // Prepare: a black square; a script and an onload handler that would paint it red; an external image
    requests.length = 0;
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="200" height="200" onload="document.getElementById('r').setAttribute('fill','red')">
      <rect id="r" width="200" height="200" fill="black"/>
      <script>document.getElementById('r').setAttribute('fill', 'red')</script>
      <image href="${origin}/svg-image" xlink:href="${origin}/svg-xlink" width="10" height="10"/>
    </svg>`;
    // Act
    const out = await renderer.render({ bytes: text(svg), mimeType: 'image/svg+xml', width: 400 });
    // Assess
    const png = await decodeImage(out.png);
    expect(out.width).toBe(400);
    expect(darkShare(png, { x0: 0.3, y0: 0.05, x1: 0.7, y1: 0.3 })).toBeGreaterThan(0.9);
    expect(share(png, [255, 0, 0])).toBe(0);
    expect(requests).toEqual([]);
  });

  it('draws HTML with JavaScript, network and navigation off', async () => {
    requests.length = 0;
    const html = `<!doctype html><html><head>
      <meta http-equiv="refresh" content="0; url=${origin}/navigated">
      <link rel="stylesheet" href="${origin}/style.css"></head>
      <body style="background:#000">
      <img src="${origin}/pixel.png"><iframe src="${origin}/frame"></iframe>
      <script>document.body.style.background = 'red'</script>
      <script src="${origin}/script.js"></script></body></html>`;
    const out = await renderer.render({ bytes: text(html), mimeType: 'text/html', width: 320 });
    const png = await decodeImage(out.png);
    expect(share(png, [0, 0, 0])).toBeGreaterThan(0.8);
    expect(share(png, [255, 0, 0])).toBe(0);
    // Let a refresh that was going to happen happen.
    await new Promise((done) => setTimeout(done, 300));
    expect(requests).toEqual([]);
  });

  it.each([
    ['text/plain', 'Quarterly numbers\n\nRevenue went up.\n'.repeat(20)],
    ['text/markdown', '# Heading\n\n- one\n- two\n\n**bold** text\n'.repeat(10)],
    ['text/csv', 'name,amount,"quoted, field"\nalice,10,"a ""b"""\nbob,20,x\n'.repeat(10)],
  ])('draws %s as dark text on white', async (mimeType, body) => {
    const out = await renderer.render({ bytes: text(body), mimeType, width: 400 });
    const png = await decodeImage(out.png);
    expect(share(png, [255, 255, 255])).toBeGreaterThan(0.6);
    expect(darkShare(png)).toBeGreaterThan(0.005);
  });

  it('answers for nothing it does not draw', () => {
    expect(renderer.supports('image/svg+xml')).toBe(true);
    expect(renderer.supports('application/pdf')).toBe(false);
    expect(renderer.supports('application/json')).toBe(false);
  });
});

/** The pids of this process's direct children (Linux `/proc`). */
function childPids(): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // Fields after the command name, which is in parentheses and may hold spaces.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid) children.push(Number(entry));
    } catch {
      // Gone between the listing and the read.
    }
  }
  return children;
}

describe.skipIf(!available || process.platform !== 'linux')('closing the renderer', () => {
  it('leaves no browser process behind, also when it is one of several renderers', async () => {
    const before = new Set(childPids());
    const composite = createCompositePreviewRenderer([
      createChromiumPreviewRenderer({ executablePath: process.env.CHROMIUM_PATH || null, timeoutMs: 15_000 }),
    ]);
    await composite.render({ bytes: text('hello'), mimeType: 'text/plain', width: 200 });
    const started = childPids().filter((pid) => !before.has(pid));
    expect(started.length).toBeGreaterThan(0);

    await composite.close?.();
    expect(childPids().filter((pid) => started.includes(pid))).toEqual([]);
  });
});

describe.skipIf(available)('the Chromium preview renderer', () => {
  it.skip('has no Chromium here (neither CHROMIUM_PATH nor @sparticuz/chromium): SVG, text and HTML previews answer 415', () => {});
});
