import type { IncomingMessage } from 'node:http';
import { API_CORS } from '../functions/api/cors-policy.js';

export interface Cors {
  /** The answer to a CORS preflight (OPTIONS with Origin and Access-Control-Request-Method), else null. */
  preflight(req: IncomingMessage): { status: number; headers: Record<string, string> } | null;
  /** The answer's headers with the backend's CORS headers replaced by ours for this request's origin. */
  decorate(req: IncomingMessage, headers: Record<string, string> | undefined): Record<string, string>;
}

/**
 * What API Gateway's `corsPreflight` does in front of the API, for the local server: preflights
 * are answered here (204) and never reach a route; an allowed origin gets itself back (never
 * `*`) with the allowed methods, headers and max age, and real answers expose the headers
 * scripts need; any other origin gets no CORS header at all, so the browser withholds the
 * answer. Like API Gateway, CORS headers a handler sets are ignored.
 */
export function createCors(allowOrigins: readonly string[]): Cors {
  const allowed = new Set(allowOrigins);
  const originOf = (req: IncomingMessage) => {
    const origin = req.headers.origin;
    return typeof origin === 'string' && allowed.has(origin) ? origin : null;
  };
  return {
    preflight(req): { status: number; headers: Record<string, string> } | null {
      if (req.method !== 'OPTIONS' || !req.headers.origin || !req.headers['access-control-request-method'])
        return null;
      const origin = originOf(req);
      if (!origin) return { status: 204, headers: { vary: 'Origin' } };
      return {
        status: 204,
        headers: {
          'access-control-allow-origin': origin,
          'access-control-allow-methods': API_CORS.allowMethods.join(','),
          'access-control-allow-headers': API_CORS.allowHeaders.join(','),
          'access-control-max-age': String(API_CORS.maxAgeSeconds),
          vary: 'Origin',
        },
      };
    },
    decorate(req, headers = {}) {
      const out: Record<string, string> = {};
      for (const [name, value] of Object.entries(headers))
        if (!name.toLowerCase().startsWith('access-control-') && name.toLowerCase() !== 'vary')
          out[name] = value;
      const vary = headers.vary ?? headers.Vary;
      out.vary = vary ? `${vary}, Origin` : 'Origin';
      const origin = originOf(req);
      if (origin) {
        out['access-control-allow-origin'] = origin;
        out['access-control-expose-headers'] = API_CORS.exposeHeaders.join(',');
      }
      return out;
    },
  };
}
