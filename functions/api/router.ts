import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type * as z from 'zod';
import { runAsTenant } from '../../shared/adapters/tenant-scope/tenant-context.js';
import { requireRole } from '../../shared/domain/access.js';
import { StowageError, validationFailed } from '../../shared/domain/errors.js';
import type { Services } from '../../shared/services/index.js';
import { actorFromRequest, type ClaimNames } from './claims.js';
import { buildOpenApi } from './openapi.js';
import type { HttpMethod, HttpResponse, Route } from './route.js';

const MAX_BODY_BYTES = 1024 * 1024;

/** The router serves its own OpenAPI document here, without a token (API Gateway routes it too). */
export const OPENAPI_PATH = '/v1/openapi.json';

interface CompiledRoute {
  route: Route;
  pattern: RegExp;
  names: string[];
}

export type RouteMatch =
  | { kind: 'found'; route: Route; params: Record<string, string> }
  | { kind: 'method-not-allowed'; allow: HttpMethod[] }
  | { kind: 'not-found' };

/**
 * Matches method and path against the route table. Parameters stay percent-encoded: they are
 * decoded (and a malformed escape refused) only after the token and role checks, as API.md
 * orders them.
 */
export function createRouteMatcher(routes: readonly Route[]) {
  const compiled: CompiledRoute[] = routes.map((route) => {
    const names: string[] = [];
    const source = route.path.replace(/\{(\w+)\}/g, (_, name: string) => {
      names.push(name);
      return '([^/]+)';
    });
    return { route, pattern: new RegExp(`^${source}$`), names };
  });

  return (method: string, path: string): RouteMatch => {
    const allow: HttpMethod[] = [];
    for (const { route, pattern, names } of compiled) {
      const m = pattern.exec(path);
      if (!m) continue;
      if (route.method !== method) {
        allow.push(route.method);
        continue;
      }
      const params: Record<string, string> = {};
      names.forEach((name, i) => {
        params[name] = m[i + 1] as string;
      });
      return { kind: 'found', route, params };
    }
    return allow.length > 0 ? { kind: 'method-not-allowed', allow } : { kind: 'not-found' };
  };
}

/**
 * Whether a request must carry a verified token before the function sees it: what API
 * Gateway's JWT authorizer guards in AWS (infra/constructs/api-routes.ts), and what the local
 * stack's authorizer checks. Every known path but the public routes, wrong methods included.
 */
export function createTokenRequirement(routes: readonly Route[]) {
  const match = createRouteMatcher(routes);
  return (method: string, path: string): boolean => {
    if (path === OPENAPI_PATH) return method !== 'GET';
    const found = match(method, path);
    if (found.kind === 'found') return found.route.role !== 'public';
    return found.kind === 'method-not-allowed';
  };
}

function decodeParams(params: Record<string, string>): Record<string, string> {
  try {
    return Object.fromEntries(
      Object.entries(params).map(([name, value]) => [name, decodeURIComponent(value)]),
    );
  } catch {
    throw validationFailed('The path holds a malformed percent-encoding.');
  }
}

/** The API: route, authenticate, authorise by role, validate, call the use case. */
export function createRouter(
  routes: readonly Route[],
  services: Services,
  claimNames: ClaimNames,
  opts: {
    /**
     * The API's public origin for links it hands out. Without it: `https://` and the domain
     * API Gateway received the request on (set by API Gateway, not by the client).
     */
    publicUrl?: string;
  } = {},
) {
  const openApiRoute: Route = {
    method: 'GET',
    path: OPENAPI_PATH,
    operationId: 'getOpenApi',
    summary: 'This document',
    role: 'public',
    responses: { 200: { description: 'OpenAPI 3.1 document' } },
    handle: async () => ({ status: 200, body: openApi }),
  };
  const all = [...routes, openApiRoute];
  const openApi = buildOpenApi(all, { title: 'Stowage file storage API', version: '1' });
  const match = createRouteMatcher(all);

  return async (event: APIGatewayProxyEventV2WithJWTAuthorizer): Promise<HttpResponse> => {
    const found = match(event.requestContext.http.method, event.rawPath);
    if (found.kind === 'not-found') throw new StowageError('NOT_FOUND', 'No such route.');
    // 401 comes first (API.md section 0), for a known path's other methods too: in AWS the
    // authorizer guards those routes, so anonymous traffic never reaches this function.
    const authenticate = () =>
      actorFromRequest(
        {
          claims: event.requestContext.authorizer?.jwt?.claims as Record<string, unknown> | undefined,
          authorization: event.headers?.authorization,
        },
        claimNames,
      );
    if (found.kind === 'method-not-allowed') {
      authenticate();
      throw new StowageError('METHOD_NOT_ALLOWED', 'This path does not take that method.', undefined, {
        cause: { allow: found.allow },
      });
    }
    const { route, params } = found;
    const origin = (opts.publicUrl ?? `https://${event.requestContext.domainName ?? 'localhost'}`).replace(
      /\/+$/,
      '',
    );
    if (route.role === 'public')
      return route.handle(
        { actor: undefined as never, params, query: {}, body: undefined, origin },
        services,
      );

    const actor = authenticate();
    if (actor.roles.length === 0)
      throw new StowageError('FORBIDDEN', 'The token grants none of the roles admin, member or viewer.');
    requireRole(actor, route.role);

    const input = {
      actor,
      params: parse(route.params, decodeParams(params), 'path'),
      query: parse(route.query, queryOf(event), 'query'),
      body: route.body ? parse(route.body, bodyOf(event), 'body') : undefined,
      origin,
    };
    // Everything the route does runs with the caller's tenant scope (the second wall).
    return runAsTenant(actor.tenantId, () => route.handle(input, services));
  };
}

function queryOf(event: APIGatewayProxyEventV2WithJWTAuthorizer): Record<string, string> {
  const params = new URLSearchParams(event.rawQueryString ?? '');
  const query: Record<string, string> = {};
  for (const [key, value] of params) {
    if (value === '') continue; // API.md: empty values count as absent
    if (key in query) throw validationFailed(`Query parameter ${key} is given twice.`);
    query[key] = value;
  }
  return query;
}

const PROTO_KEY = Symbol('__proto__ key');

function bodyOf(event: APIGatewayProxyEventV2WithJWTAuthorizer): unknown {
  if (!event.body) return {};
  const text = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  if (Buffer.byteLength(text, 'utf8') > MAX_BODY_BYTES)
    throw validationFailed('The request body is too large.');
  if (text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text, (key, value) => {
      if (key === '__proto__') throw PROTO_KEY;
      return value;
    });
  } catch (error) {
    // zod drops a `__proto__` key of a free-form map (metadata) without a word: refuse it here.
    if (error === PROTO_KEY) throw validationFailed('The request body may not hold a __proto__ key.');
    throw validationFailed('The request body is not valid JSON.');
  }
  return parsed;
}

function parse<T>(schema: z.ZodType<T> | undefined, value: unknown, where: string): T {
  if (!schema) {
    if (where === 'query' && value && Object.keys(value).length > 0)
      throw validationFailed(`Unknown query parameter ${Object.keys(value)[0]}.`);
    return {} as T;
  }
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw validationFailed(`The request ${where} is not valid.`, {
    issues: result.error.issues.map((issue) => ({
      path: [where, ...issue.path.map(String)].join('.'),
      message: issue.message,
    })),
  });
}

export type ApiResult = APIGatewayProxyStructuredResultV2;
