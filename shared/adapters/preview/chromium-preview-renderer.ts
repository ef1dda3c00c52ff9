import { createRequire } from 'node:module';
import {
  PreviewFailedError,
  type PreviewRenderer,
  type RenderedPreview,
} from '../../ports/preview-renderer.js';
import { launchArgs } from './chromium-args.js';

export interface ChromiumPreviewRendererOptions {
  /** A Chromium binary (Debian's /usr/bin/chromium); @default the one inside @sparticuz/chromium */
  readonly executablePath?: string | null;
  /** A render that takes longer is abandoned (`timeout`) and its page replaced. @default 20000 */
  readonly timeoutMs?: number;
  /** Only the start of a document is read: a first screen never needs more. @default 262144 */
  readonly maxSourceBytes?: number;
  /** The first screen's height as a multiple of its width. @default 1.3 */
  readonly screenAspect?: number;
}

type PlaywrightBrowser = import('playwright-core').Browser;
type PlaywrightPage = import('playwright-core').Page;
type SparticuzChromium = typeof import('@sparticuz/chromium')['default'];

/**
 * Both packages are loaded through `require`, whose resolution honours `NODE_PATH`: in a
 * Lambda function they live in a layer (/opt/nodejs/node_modules), which ES module resolution
 * never looks at. Both ship CommonJS builds.
 */
const requireHere = createRequire(import.meta.url);

const DRAWN = new Set(['image/svg+xml', 'text/plain', 'text/markdown', 'text/csv', 'text/html']);

/** The types this renderer draws: API.md section 9's SVG, plain text, Markdown, CSV and HTML. */
export const browserDrawsPreviewOf = (mimeType: string) => DRAWN.has(mimeType);

/** Whether a Chromium can be had here without a download: a configured binary, or the npm package's. */
export function chromiumAvailable(executablePath?: string | null): boolean {
  if (executablePath) return true;
  try {
    requireHere.resolve('@sparticuz/chromium');
    return true;
  } catch {
    return false;
  }
}

/**
 * Where nothing may be fetched: every subresource is refused by the page's own policy too, not
 * only by the request filter (belt and braces: a `data:` image is all an SVG preview needs).
 */
const CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:";

/**
 * SVG, text, Markdown, CSV and HTML drawn by Chromium (playwright-core driving Debian's binary
 * or @sparticuz/chromium's) with JavaScript off, every request refused (network and
 * navigation), and a content security policy that allows nothing but inline styles and `data:`
 * images. One browser per warm process, started on the first render; one page, reused; a hard
 * timeout that closes the page. SVG is drawn as an `<img>`, the browser's static mode for
 * images: no script, no event handler, no external resource even where JavaScript were on.
 */
export function createChromiumPreviewRenderer(
  opts: ChromiumPreviewRendererOptions = {},
): PreviewRenderer & { close(): Promise<void> } {
  const timeoutMs = opts.timeoutMs ?? 20_000;
  const maxSourceBytes = opts.maxSourceBytes ?? 256 * 1024;
  const screenAspect = opts.screenAspect ?? 1.3;
  let browser: Promise<PlaywrightBrowser> | undefined;
  let page: PlaywrightPage | undefined;
  let queue: Promise<unknown> = Promise.resolve();

  const launch = () => {
    browser ??= (async () => {
      const { chromium: playwright } = requireHere('playwright-core') as typeof import('playwright-core');
      let executablePath = opts.executablePath ?? null;
      let args = launchArgs(null);
      if (!executablePath) {
        const chromium = requireHere('@sparticuz/chromium') as SparticuzChromium;
        executablePath = await chromium.executablePath();
        args = launchArgs(chromium.args);
      }
      const launched = await playwright.launch({ executablePath, args, headless: true });
      launched.on('disconnected', () => {
        browser = undefined;
        page = undefined;
      });
      return launched;
    })().catch((error) => {
      browser = undefined; // the next render tries again
      throw error;
    });
    return browser;
  };

  const freshPage = async (width: number): Promise<PlaywrightPage> => {
    const context = await (await launch()).newContext({
      javaScriptEnabled: false,
      offline: true,
      serviceWorkers: 'block',
      acceptDownloads: false,
      viewport: { width, height: Math.round(width * screenAspect) },
    });
    // Network and navigation: nothing leaves, not even a link followed by a meta refresh.
    await context.route('**/*', (route) => route.abort('blockedbyclient'));
    return context.newPage();
  };

  async function draw(html: string, width: number): Promise<RenderedPreview> {
    const height = Math.round(width * screenAspect);
    if (!page || page.isClosed()) page = await freshPage(width);
    const current = page;
    await current.setViewportSize({ width, height });
    const timer = setTimeout(
      () =>
        void current
          .context()
          .close()
          .catch(() => undefined),
      timeoutMs,
    );
    try {
      await current.setContent(html, { waitUntil: 'load', timeout: timeoutMs });
      const png = await current.screenshot({
        type: 'png',
        clip: { x: 0, y: 0, width, height },
        timeout: timeoutMs,
      });
      return { png: new Uint8Array(png.buffer, png.byteOffset, png.byteLength), width, height };
    } catch (error) {
      if (current.isClosed()) {
        page = undefined;
        throw new PreviewFailedError('timeout', `The preview took longer than ${timeoutMs} ms.`, {
          cause: error,
        });
      }
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    supports: browserDrawsPreviewOf,

    async render(input) {
      if (!browserDrawsPreviewOf(input.mimeType))
        throw new PreviewFailedError('unsupported', `No preview for ${input.mimeType}.`);
      // Only the start: a first screen never needs the rest of a large document.
      const bytes = await firstBytes(input.bytes, maxSourceBytes);
      const html = documentFor(input.mimeType, bytes, bytes.length >= maxSourceBytes, input.charset);
      const run = queue.then(() => draw(html, input.width));
      queue = run.catch(() => undefined);
      return run;
    },

    async close() {
      const open = browser;
      browser = undefined;
      page = undefined;
      if (open) await (await open.catch(() => null))?.close();
    },
  };
}

/** At most `limit` bytes from the start of a source. */
async function firstBytes(source: PreviewRendererInputBytes, limit: number): Promise<Uint8Array> {
  if (source instanceof Uint8Array) return source.subarray(0, limit);
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of source) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
    chunks.push(buffer);
    length += buffer.length;
    if (length >= limit) break;
  }
  source.destroy();
  return new Uint8Array(Buffer.concat(chunks).subarray(0, limit));
}
type PreviewRendererInputBytes = Parameters<PreviewRenderer['render']>[0]['bytes'];

const escapeHtml = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );

/**
 * Text as the browser should see it: in its declared charset, else UTF-8 (a BOM-announced
 * UTF-16 too, a BOM winning over the declaration), never failing.
 */
function decodeText(bytes: Uint8Array, charset = 'utf-8'): string {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder('utf-16le').decode(bytes.subarray(2));
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder('utf-16be').decode(bytes.subarray(2));
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf)
    return new TextDecoder('utf-8').decode(bytes.subarray(3));
  return new TextDecoder(charset).decode(bytes);
}

const page = (body: string, style = '') =>
  `<!doctype html><html><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="${CSP}"><style>html,body{margin:0;background:#fff;color:#111}${style}</style></head><body>${body}</body></html>`;

const TEXT_STYLE =
  'pre{margin:0;padding:16px;font:13px/1.45 "DejaVu Sans Mono",monospace;white-space:pre-wrap;word-break:break-word}';

/** The document drawn for each type: the file itself only for HTML, in a sandboxed frame. */
export function documentFor(mimeType: string, bytes: Uint8Array, cut: boolean, charset?: string): string {
  if (mimeType === 'image/svg+xml') {
    const src = `data:image/svg+xml;base64,${Buffer.from(bytes).toString('base64')}`;
    return page(
      `<img src="${src}" alt="">`,
      'body{display:flex;align-items:flex-start;justify-content:center}img{max-width:100%;max-height:100vh}',
    );
  }
  const text = decodeText(bytes, charset);
  if (mimeType === 'text/html') {
    // A sandboxed frame: no script, no form, no plugin, no navigation of any frame, and no
    // automatic features (a meta refresh) whatever the file says; the policy above it holds too.
    const inner = `<!doctype html><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="${CSP}">${text}`;
    return page(
      `<iframe sandbox="" srcdoc="${escapeHtml(inner)}"></iframe>`,
      'iframe{border:0;width:100vw;height:100vh;display:block}',
    );
  }
  if (mimeType === 'text/csv') return page(csvTable(text, cut), TABLE_STYLE);
  // Plain text and Markdown: the source as written (Markdown reads as text), on a white page.
  return page(`<pre>${escapeHtml(text)}</pre>`, TEXT_STYLE);
}

const TABLE_STYLE =
  'table{border-collapse:collapse;font:13px/1.4 "DejaVu Sans",sans-serif;margin:8px}td{border:1px solid #ccc;padding:3px 6px;white-space:nowrap;max-width:320px;overflow:hidden;text-overflow:ellipsis}tr:first-child td{background:#f0f0f0;font-weight:bold}';

/** The first rows of a CSV as a table (RFC 4180 quoting; `;` or tab when the first line says so). */
function csvTable(text: string, cut: boolean): string {
  const firstLine = text.slice(0, text.indexOf('\n') >>> 0);
  const delimiter = [',', ';', '\t'].reduce((best, d) =>
    firstLine.split(d).length > firstLine.split(best).length ? d : best,
  );
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length && rows.length < 60; i++) {
    const c = text[i] as string;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"' && cell === '') quoted = true;
    else if (c === delimiter) {
      row.push(cell);
      cell = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(cell);
      rows.push(row.slice(0, 30));
      row = [];
      cell = '';
    } else cell += c;
  }
  if (!cut && (cell !== '' || row.length > 0) && rows.length < 60) rows.push([...row, cell].slice(0, 30));
  return `<table>${rows.map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`).join('')}</table>`;
}
