import { z } from 'zod';
import { ID_PATTERN, USER_ID_PATTERN } from '../shared/domain/ids.js';
import { mintDevToken } from './dev-token.js';
import type { LocalRoute } from './http-server.js';

const TokenRequest = z.strictObject({
  tenantId: z.string().regex(ID_PATTERN),
  userId: z.string().regex(USER_ID_PATTERN),
  roles: z.array(z.enum(['admin', 'member', 'viewer'])).max(3),
});

const json = (status: number, body: unknown) => ({
  status,
  headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
  body: JSON.stringify(body),
});

/**
 * What only the local stack serves: `POST /local/token` (dev tokens for the demo page; off
 * when tokens come from a real identity provider) and the page at `/`.
 */
export function localRoutes(opts: {
  devSecret: string | null;
  claimNames: { tenantClaim: string; rolesClaim: string };
}): LocalRoute[] {
  const token: LocalRoute = async (req, body) => {
    const path = (req.url ?? '').split('?')[0];
    if (!path?.startsWith('/local/') || !opts.devSecret) return null;
    if (path !== '/local/token')
      return json(404, { error: { code: 'NOT_FOUND', message: 'No such route.' } });
    if (req.method !== 'POST')
      return {
        ...json(405, { error: { code: 'METHOD_NOT_ALLOWED', message: 'Use POST.' } }),
        headers: { allow: 'POST', 'content-type': 'application/json' },
      };
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8') || '{}');
    } catch {
      return json(400, {
        error: { code: 'VALIDATION_FAILED', message: 'The request body is not valid JSON.' },
      });
    }
    const input = TokenRequest.safeParse(parsed);
    if (!input.success)
      return json(400, {
        error: { code: 'VALIDATION_FAILED', message: 'tenantId, userId and roles are required.' },
      });
    const value = await mintDevToken({ ...input.data, secret: opts.devSecret, claimNames: opts.claimNames });
    return json(200, { token: value });
  };

  const page: LocalRoute = async (req) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/') return null;
    return {
      status: 200,
      headers: { 'content-type': 'text/html; charset=utf-8' },
      body: `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Stowage</title></head>
<body><h1>Stowage local stack</h1><p>The API is at <code>/v1</code>; its description is at
<a href="/v1/openapi.json">/v1/openapi.json</a>. Get a token with <code>POST /local/token</code>.</p></body></html>`,
    };
  };
  return [token, page];
}
