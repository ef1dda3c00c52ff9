import { OPENAPI_PATH } from '../../functions/api/router.js';
import { routes } from '../../functions/api/routes.js';

/** The methods API Gateway may route to the API function (OPTIONS stays with the CORS preflight). */
export const ROUTABLE_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD'] as const;
export type RoutableMethod = (typeof ROUTABLE_METHODS)[number];

export interface DeployedRoute {
  method: RoutableMethod;
  /** API Gateway path syntax, the same `{name}` variables as the route table. */
  path: string;
  /**
   * `handler`: a route of the table, behind the JWT authorizer unless public.
   * `method-not-allowed`: a known path with a method the table does not list; behind the JWT
   * authorizer too (401 comes first, API.md section 0), then the router's 405 with `Allow`.
   */
  kind: 'handler' | 'method-not-allowed';
  /** Whether API Gateway's JWT authorizer guards the route: all but the public handlers. */
  authorized: boolean;
}

/**
 * The router serves this document itself (functions/api/router.ts adds it to the table), so it
 * is not in `routes`: it is the one route listed here by hand, at the router's own path.
 */
export const OPENAPI_ROUTE = { method: 'GET', path: OPENAPI_PATH } as const;

/** The public share-link route (API.md 13.4), throttled on its own at the stage. */
export const SHARED_LINK_ROUTE_KEY = 'GET /v1/shared/{token}';

/**
 * Every route API Gateway gets, generated from the route table the API function itself matches
 * (functions/api/routes.ts), so the deployed routes cannot drift from the code. Only method and
 * path are read from it.
 *
 * What API Gateway answers by itself, before the function: a path the table does not know gets
 * `404 {"message":"Not Found"}` (no `$default` route: it would also swallow CORS preflights);
 * a missing or invalid token gets `401 {"message":"Unauthorized"}`; throttling gets
 * `429 {"message":"Too Many Requests"}`. HTTP APIs cannot reshape these into API.md's error body.
 * A known path with another method is routed here behind the authorizer, so anonymous traffic
 * never invokes the function (only health, the OpenAPI document and CORS preflights stay
 * open) and an authenticated caller gets the router's `405 METHOD_NOT_ALLOWED` with `Allow`.
 */
export function deployedRoutes(): DeployedRoute[] {
  const table = [
    ...routes.map((r) => ({ method: r.method, path: r.path, isPublic: r.role === 'public' })),
    { ...OPENAPI_ROUTE, isPublic: true },
  ];
  const handled: DeployedRoute[] = table.map((r) => ({
    method: r.method,
    path: r.path,
    kind: 'handler',
    authorized: !r.isPublic,
  }));
  const methodsByPath = new Map<string, Set<string>>();
  for (const r of table) methodsByPath.set(r.path, (methodsByPath.get(r.path) ?? new Set()).add(r.method));
  const notAllowed: DeployedRoute[] = [...methodsByPath].flatMap(([path, methods]) =>
    ROUTABLE_METHODS.filter((m) => !methods.has(m)).map((method) => ({
      method,
      path,
      kind: 'method-not-allowed' as const,
      authorized: true,
    })),
  );
  return [...handled, ...notAllowed];
}
