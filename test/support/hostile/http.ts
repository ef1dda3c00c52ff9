import { Agent, type IncomingHttpHeaders, request } from 'node:http';

export interface RawRequest {
  method: string;
  /** Sent byte for byte: no URL parser gets to resolve `..` or `%2e` before the server does. */
  path: string;
  token?: string;
  body?: string | Uint8Array;
  headers?: Record<string, string>;
}

export interface RawAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  /** Header names and values exactly as they came over the wire. */
  rawHeaders: string[];
  text: string;
  /** The parsed JSON body, or undefined when there is none or it is not JSON. */
  body: any;
}

const agent = new Agent({ keepAlive: true, maxSockets: 4 });

/**
 * One HTTP request with a verbatim path. `fetch` (WHATWG URL) would normalise `..`, `%2e%2e` and
 * `\` before sending, so hostile paths would never reach the server as written.
 */
export function sendRaw(baseUrl: string, req: RawRequest): Promise<RawAnswer> {
  const base = new URL(baseUrl);
  const headers: Record<string, string> = { ...(req.headers ?? {}) };
  if (req.token !== undefined) headers.authorization = `Bearer ${req.token}`;
  if (req.body !== undefined) {
    headers['content-type'] ??= 'application/json';
    headers['content-length'] = String(
      typeof req.body === 'string' ? Buffer.byteLength(req.body) : req.body.byteLength,
    );
  }
  return new Promise((resolve, reject) => {
    const outgoing = request(
      { host: base.hostname, port: base.port, method: req.method, path: req.path, headers, agent },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown;
          try {
            body = text ? JSON.parse(text) : undefined;
          } catch {
            body = undefined;
          }
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            rawHeaders: res.rawHeaders,
            text,
            body,
          });
        });
      },
    );
    outgoing.on('error', reject);
    outgoing.end(req.body);
  });
}

/** GET of an absolute URL (a presigned download), keeping the raw response headers. */
export function getUrl(url: string): Promise<RawAnswer & { bytes: Buffer }> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const outgoing = request(
      { host: target.hostname, port: target.port, method: 'GET', path: `${target.pathname}${target.search}` },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const bytes = Buffer.concat(chunks);
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            rawHeaders: res.rawHeaders,
            text: bytes.toString('utf8'),
            body: undefined,
            bytes,
          });
        });
      },
    );
    outgoing.on('error', reject);
    outgoing.end();
  });
}
