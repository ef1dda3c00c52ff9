import * as z from 'zod';
import { ID_PATTERN, USER_ID_PATTERN } from '../shared/domain/ids.js';
import { buildWebAssets, type WebAsset } from '../web/build/build-web.js';
import { mintDevToken } from './dev-token.js';
import type { LocalAnswer, LocalRoute } from './http-server.js';
import { isLoopbackHost } from './local-config.js';

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

const DEMO_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Stowage local stack</title>
<link rel="stylesheet" href="/assets/demo.css">
<script type="module" src="/assets/demo.js"></script>
</head>
<body>
<div id="root"></div>
<noscript><p>The Stowage demo needs JavaScript. The API is at <code>/v1</code>, described at
<a href="/v1/openapi.json">/v1/openapi.json</a>.</p></noscript>
</body>
</html>
`;

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
    // Whoever can mint tokens is every tenant's admin: only callers on this machine may.
    if (!isLoopbackHost(req.socket.remoteAddress ?? ''))
      return json(403, {
        error: { code: 'FORBIDDEN', message: 'Dev tokens are issued to callers on this machine only.' },
      });
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

  // Bundled on the first request and kept: `npm start` needs no build step.
  let assets: Promise<Map<string, WebAsset>> | null = null;
  const page: LocalRoute = async (req): Promise<LocalAnswer | null> => {
    const path = (req.url ?? '').split('?')[0] ?? '';
    if (req.method !== 'GET' && req.method !== 'HEAD') return null;
    if (path === '/')
      return {
        status: 200,
        headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' },
        body: DEMO_PAGE,
      };
    if (!path.startsWith('/assets/')) return null;
    assets ??= buildWebAssets().catch((error: unknown) => {
      assets = null; // the next request tries again
      throw error;
    });
    let built: Map<string, WebAsset>;
    try {
      built = await assets;
    } catch (error) {
      process.stderr.write(`web bundle failed: ${String(error)}\n`);
      return {
        status: 500,
        headers: { 'content-type': 'text/plain' },
        body: 'The web bundle failed to build.',
      };
    }
    const asset = built.get(path.slice('/assets/'.length));
    if (!asset) return { status: 404, headers: { 'content-type': 'text/plain' }, body: 'Not found.' };
    return {
      status: 200,
      headers: { 'content-type': asset.contentType, 'cache-control': 'no-cache' },
      body: Buffer.from(asset.body),
    };
  };
  return [token, page];
}
