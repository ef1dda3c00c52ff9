import type { IncomingMessage, ServerResponse } from 'node:http';
import { s3Errors } from './errors.js';

/**
 * CORS for browser uploads and downloads, server-wide (S3 keeps a rule per bucket; every bucket
 * here serves the same web app). Only the listed origins, matched exactly, get
 * `Access-Control-Allow-*`; any other origin gets no CORS header at all, and its preflight is
 * refused with 403 as S3 refuses it.
 */
export interface Cors {
  setAllowedOrigins(origins: readonly string[]): void;
  /** Adds the allow headers to an ordinary answer when its Origin is allowed. */
  decorate(req: IncomingMessage, res: ServerResponse): void;
  /** Answers an OPTIONS preflight (throws S3's 403 for one that is not allowed). */
  preflight(req: IncomingMessage, res: ServerResponse): void;
}

export const CORS_METHODS = ['GET', 'PUT', 'POST', 'HEAD', 'DELETE'] as const;
/** What browser code may read: ETag for multipart, version and checksum for create-once uploads. */
export const CORS_EXPOSED = ['ETag', 'x-amz-version-id', 'x-amz-checksum-sha256'] as const;
const MAX_AGE_SECONDS = 3000;

export function createCors(initial: readonly string[]): Cors {
  let allowed = new Set(checkedOrigins(initial));
  const isAllowed = (origin: string | undefined): origin is string =>
    origin !== undefined && allowed.has(origin);

  return {
    setAllowedOrigins(origins) {
      allowed = new Set(checkedOrigins(origins));
    },
    decorate(req, res) {
      res.setHeader('Vary', 'Origin');
      const origin = req.headers.origin;
      if (!isAllowed(origin)) return;
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Access-Control-Expose-Headers', CORS_EXPOSED.join(', '));
    },
    preflight(req, res) {
      const origin = req.headers.origin;
      const method = req.headers['access-control-request-method'];
      if (origin === undefined || method === undefined) {
        throw s3Errors.corsForbidden('Insufficient information. Origin request header needed.');
      }
      if (!isAllowed(origin) || !(CORS_METHODS as readonly string[]).includes(method)) {
        throw s3Errors.corsForbidden();
      }
      const requested = req.headers['access-control-request-headers'];
      res.writeHead(200, {
        'Access-Control-Allow-Origin': origin,
        'Access-Control-Allow-Methods': CORS_METHODS.join(', '),
        ...(requested ? { 'Access-Control-Allow-Headers': requested } : {}),
        'Access-Control-Expose-Headers': CORS_EXPOSED.join(', '),
        'Access-Control-Max-Age': String(MAX_AGE_SECONDS),
        Vary: 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method',
        'Content-Length': '0',
      });
      res.end();
    },
  };
}

/** `scheme://host[:port]` exactly; a wildcard or a path is a configuration mistake. */
function checkedOrigins(origins: readonly string[]): string[] {
  return origins.map((origin) => {
    let parsed: URL | null = null;
    try {
      parsed = new URL(origin);
    } catch {
      parsed = null;
    }
    if (!parsed || !/^https?:$/.test(parsed.protocol) || parsed.origin !== origin) {
      throw new Error(
        `Embedded S3 allowedOrigins: '${origin}' is not an origin like http://127.0.0.1:3000 (no path, no wildcard)`,
      );
    }
    return origin;
  });
}
