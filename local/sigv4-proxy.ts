import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { KeyPair } from './embedded-s3/credentials.js';
import { StartupError } from './startup-error.js';
import { verifySigV4 } from './verify-sigv4.js';

export interface SigV4ProxyOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** The server behind, on loopback. */
  target: { host: string; port: number };
  /** The only key pair requests may be signed with. */
  credentials: KeyPair;
  /** The SigV4 service name requests must be scoped to (`dynamodb`). */
  service: string;
  /** Added to every forwarded request: the server behind refuses requests without it. */
  forwardHeader: { name: string; value: string };
  /** @default 16 MiB (DynamoDB's largest request, a BatchWriteItem, is 16 MB) */
  maxBodyBytes?: number;
}

export interface SigV4Proxy {
  endpoint: string;
  port: number;
  /** Resolves once the port is closed. */
  stop(): Promise<void>;
}

/**
 * A loopback door for a server that trusts anyone (DynamoDB Local): each request must carry a
 * valid SigV4 signature made with `credentials` before it is forwarded with the header that
 * opens the server behind. Refusals answer as DynamoDB does (400 and a JSON `__type`), so SDKs
 * report them as the usual credential errors.
 */
export async function startSigV4Proxy(opts: SigV4ProxyOptions): Promise<SigV4Proxy> {
  const maxBody = opts.maxBodyBytes ?? 16 * 1024 * 1024;
  const server = createServer((req, res) => {
    void handle(req, res).catch(() => {
      if (!res.headersSent) refuse(res, 500, 'InternalServerError', 'The local proxy failed.');
      else res.destroy();
    });
  });

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const body = await readBody(req, maxBody);
    if (!body) return refuse(res, 413, 'ValidationException', `Request body exceeds ${maxBody} bytes.`);
    const verdict = await verifySigV4(
      { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body },
      { credentials: opts.credentials, service: opts.service },
    );
    if (!verdict.ok) return refuse(res, 400, verdict.code, verdict.message);
    const headers = { ...req.headers, [opts.forwardHeader.name]: opts.forwardHeader.value };
    const upstream = httpRequest(
      { host: opts.target.host, port: opts.target.port, method: req.method, path: req.url, headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => {
      if (!res.headersSent) refuse(res, 503, 'ServiceUnavailable', 'DynamoDB Local is not answering.');
      else res.destroy();
    });
    upstream.end(body);
  };

  await new Promise<void>((done, fail) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      fail(
        error.code === 'EADDRINUSE'
          ? new StartupError(`Port ${opts.port} is in use: stop what listens there, or choose another port.`)
          : error,
      ),
    );
    server.listen(opts.port, opts.host, done);
  });
  const { port } = server.address() as AddressInfo;
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  let stopped: Promise<void> | null = null;
  return {
    endpoint: `http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${port}`,
    port,
    stop: () => {
      stopped ??= new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      });
      return stopped;
    },
  };
}

/** The whole body, or null past `max` bytes (DynamoDB requests are small JSON documents). */
function readBody(req: IncomingMessage, max: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= max) chunks.push(chunk);
    });
    req.on('end', () => resolve(size > max ? null : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function refuse(res: ServerResponse, status: number, code: string, message: string): void {
  res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0' });
  res.end(JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${code}`, message }));
}
