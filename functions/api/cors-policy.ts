/**
 * How the API answers browsers from other origins: API Gateway's `corsPreflight` (infra) and
 * the local server (`local/cors.ts`) are both built from this, so they cannot drift apart.
 * The allowed origins are the deployment's (`allowedOrigins`, `FILESTORE_CORS_ORIGINS`).
 */
export const API_CORS = {
  allowMethods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
  /** What the browser client sends: the bearer token and JSON bodies. */
  allowHeaders: ['authorization', 'content-type'],
  /** What scripts may read besides the safelisted headers: 405's Allow, 302's Location, 202's Retry-After, ETag. */
  exposeHeaders: ['allow', 'etag', 'location', 'retry-after'],
  maxAgeSeconds: 86_400,
} as const;
