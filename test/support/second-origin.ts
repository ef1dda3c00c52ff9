import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StaticOrigin {
  origin: string;
  /** Where the page's API is; set once the stack listens. */
  setApiUrl(url: string): void;
  stop(): Promise<void>;
}

/**
 * The demo page and its bundles served from another origin, as a customer's app embedding the
 * FileManager would be: the stack's own page with a `<meta name="stowage-api-url">` naming the
 * stack, and the stack's bundles relayed byte for byte. Everything the page then asks of the
 * API or the store is a cross-origin request the browser checks.
 */
export async function startSecondOrigin(): Promise<StaticOrigin> {
  let apiUrl: string | null = null;
  const server: Server = createServer(async (req, res) => {
    const path = (req.url ?? '/').split('?')[0] as string;
    if (!apiUrl || req.method !== 'GET' || !(path === '/' || path.startsWith('/assets/'))) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      return res.end('Not found.');
    }
    try {
      const upstream = await fetch(`${apiUrl}${path}`);
      let body = Buffer.from(await upstream.arrayBuffer());
      if (path === '/') {
        const meta = `<meta name="stowage-api-url" content="${apiUrl}">`;
        body = Buffer.from(body.toString('utf8').replace('<head>', `<head>\n${meta}`));
      }
      res.writeHead(upstream.status, {
        'content-type': upstream.headers.get('content-type') ?? 'application/octet-stream',
        'cache-control': 'no-store',
      });
      res.end(body);
    } catch {
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end('The stack did not answer.');
    }
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    setApiUrl: (url) => {
      apiUrl = url;
    },
    stop: () =>
      new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
}
