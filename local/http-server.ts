import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type RequestListener, type Server } from 'node:http';
import type {
  APIGatewayProxyEventV2WithJWTAuthorizer,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';
import { isStowageError, StowageError } from '../shared/domain/errors.js';
import type { Cors } from './cors.js';
import type { RateLimiter } from './rate-limiter.js';

/** Routes the local server answers itself (the demo page, `/local/*`), outside the API. */
export type LocalRoute = (req: IncomingMessage, body: Buffer) => Promise<LocalAnswer | null>;
export interface LocalAnswer {
  status: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

export interface LocalHttpServerOptions {
  api: (
    event: APIGatewayProxyEventV2WithJWTAuthorizer,
    context: Context,
  ) => Promise<APIGatewayProxyStructuredResultV2>;
  /** Whether the matched API route needs a token (public routes skip the authorizer). */
  needsToken: (method: string, path: string) => boolean;
  authorize: (authorization: string | undefined) => Promise<Record<string, string>>;
  localRoutes: LocalRoute[];
  /** CORS as API Gateway answers it, for the demo page, the API and `/local/` alike. */
  cors: Cors;
  maxBodyBytes?: number;
  /**
   * Per-address limits of public paths, by path prefix (`/v1/shared/`): what API Gateway's
   * throttling does in AWS. Over it: 429 `RATE_LIMITED` with `Retry-After`.
   */
  rateLimits?: { prefix: string; limiter: RateLimiter }[];
}

export interface LocalHttpServer {
  server: Server;
  /** Starts answering; requests that arrived since `listen` wait until then. */
  serve(opts: LocalHttpServerOptions): void;
}

/**
 * The local stand-in for API Gateway: an HTTP request becomes the same v2 event (with JWT
 * authorizer claims) that the Lambda gets in AWS, and its answer becomes the HTTP response.
 * It can listen before the service is composed, so the stack knows its own origin (for CORS)
 * before it starts the embedded store.
 */
export function createLocalHttpServer(): LocalHttpServer {
  let serve: (handler: RequestListener) => void = () => undefined;
  const handler = new Promise<RequestListener>((resolve) => {
    serve = resolve;
  });
  const server = createServer((req, res) => void handler.then((answer) => answer(req, res)));
  return { server, serve: (opts) => serve(requestHandler(opts)) };
}

function requestHandler(opts: LocalHttpServerOptions): RequestListener {
  const maxBody = opts.maxBodyBytes ?? 2 * 1024 * 1024;
  return async (req, res) => {
    const send = (answer: LocalAnswer) => {
      res.writeHead(answer.status, opts.cors.decorate(req, answer.headers));
      res.end(answer.body);
    };
    try {
      const preflight = opts.cors.preflight(req);
      if (preflight) {
        req.resume();
        res.writeHead(preflight.status, preflight.headers);
        return res.end();
      }
      const limited = opts.rateLimits?.find((limit) => rawPathOf(req).startsWith(limit.prefix));
      const wait = limited?.limiter.take(req.socket.remoteAddress ?? 'unknown') ?? 0;
      if (wait > 0) {
        req.resume();
        return send({
          status: 429,
          headers: { 'content-type': 'application/json', 'retry-after': String(wait) },
          body: JSON.stringify({
            error: { code: 'RATE_LIMITED', message: 'Too many requests from this address; try again later.' },
          }),
        });
      }
      const body = await readBody(req, maxBody);
      for (const local of opts.localRoutes) {
        const answer = await local(req, body);
        if (answer) return send(answer);
      }
      const url = new URL(req.url ?? '/', 'http://local');
      const method = req.method ?? 'GET';
      let claims: Record<string, string> | undefined;
      // The raw path, as the router sees it: URL parsing would resolve `..`, `%2e` and `\\`.
      if (opts.needsToken(method, rawPathOf(req)))
        claims = await opts.authorize(header(req, 'authorization'));
      const event = toEvent(req, url, body, claims);
      const result = await opts.api(event, lambdaContext());
      send({
        status: result.statusCode ?? 200,
        headers: result.headers as Record<string, string>,
        body: result.body
          ? result.isBase64Encoded
            ? Buffer.from(result.body, 'base64')
            : result.body
          : undefined,
      });
    } catch (error) {
      const known =
        isStowageError(error) && error.expose
          ? error
          : new StowageError('INTERNAL', 'An internal error occurred.');
      if (!isStowageError(error)) process.stderr.write(`local server error: ${String(error)}\n`);
      send({
        status: known.status,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ error: { code: known.code, message: known.message } }),
      });
    }
  };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

const rawPathOf = (req: IncomingMessage) => (req.url ?? '/').split('?')[0] as string;

/**
 * Reads the body, keeping at most `max + 1` bytes: an oversized body reaches the API handler
 * still oversized, so it answers 400 after authentication and the role check, in API.md's
 * order, and the client gets that answer rather than a reset connection.
 */
function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let kept = 0;
    req.on('data', (chunk: Buffer) => {
      if (kept > max) return;
      const part = chunk.subarray(0, max + 1 - kept);
      chunks.push(part);
      kept += part.length;
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function toEvent(
  req: IncomingMessage,
  url: URL,
  body: Buffer,
  claims: Record<string, string> | undefined,
): APIGatewayProxyEventV2WithJWTAuthorizer {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers))
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
  const method = req.method ?? 'GET';
  const now = new Date();
  const rawPath = rawPathOf(req);
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath,
    rawQueryString: url.search.slice(1),
    headers,
    isBase64Encoded: false,
    body: body.length > 0 ? body.toString('utf8') : undefined,
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'local',
      http: {
        method,
        path: rawPath,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
      authorizer: {
        principalId: claims?.sub ?? '',
        integrationLatency: 0,
        jwt: { claims: claims ?? {}, scopes: [] },
      },
    },
  } as APIGatewayProxyEventV2WithJWTAuthorizer;
}

function lambdaContext(): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'stowage-api-local',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:local:000000000000:function:stowage-api-local',
    memoryLimitInMB: '1024',
    awsRequestId: randomUUID(),
    logGroupName: 'local',
    logStreamName: 'local',
    getRemainingTimeInMillis: () => 29_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
