import { decodeSegment, ID, USER_ID } from './arbitraries.js';
import { anyOf, contractStatuses, type Expectation, exact } from './contract.js';
import { type ApiRoute, type JsonSchema, matchRoute } from './route-table.js';
import { type Caller, roleExpectation } from './tenant.js';

export const MiB = 1024 * 1024;
/** The router refuses bodies above this (a 400). */
export const ROUTER_BODY_LIMIT = MiB;

/** Path parameters that name a resource of the tenant: an unknown one is 404 (API.md 0). */
const RESOURCE_PARAMS = new Set(['fileId', 'bucketId', 'providerId']);

/** JSON Schema measures strings in code points, not UTF-16 units. */
const codePoints = (text: string) => [...text].length;

export type Verdict = 'valid' | 'invalid' | 'unknown';

export interface Probe {
  caller: Caller;
  method: string;
  /** Raw path, query string included. */
  path: string;
  /** The route the case was built for; strictness about the body applies only to it. */
  intended?: ApiRoute;
  bodyBytes: number;
  /** Whether the body is valid for the intended route's schema, by construction. */
  body: Verdict;
  /** The cursor's fate, when the case carries one (decided by where it came from). */
  cursor?: Verdict;
  /** Whether an id names something that exists in the caller's tenant. */
  exists: (id: string) => boolean;
}

const paramValid = (name: string, value: string) => (name === 'userId' ? USER_ID : ID).test(value);

/**
 * What API.md says the answer to a request must be, in its order of checks: routing, 401,
 * 403 for the role, 400 for the input, 404 for an unknown resource, then whatever the route
 * itself may answer.
 */
export function expectationFor(p: Probe): Expectation {
  const [rawPath = '', rawQuery = ''] = splitOnce(p.path, '?');
  const found = matchRoute(p.method, rawPath);
  if (found.kind === 'not-found') return exact(404, 'NOT_FOUND', 'no route has this path');
  // 401 comes first on a known path's other methods too (in AWS the authorizer guards them).
  if (found.kind === 'method-not-allowed')
    return p.caller === 'anonymous'
      ? exact(401, 'UNAUTHENTICATED', 'no token, on a known path')
      : exact(405, 'METHOD_NOT_ALLOWED', `the path takes ${found.allow.join(', ')}`);
  const { route, rawParams } = found;
  const role = roleExpectation(p.caller, route);
  if (role) return role;
  if (route.role === 'public') return anyOf(contractStatuses(route), 'a public route');

  const decoded: Record<string, string> = {};
  for (const name of route.params) {
    const value = decodeSegment(rawParams[name] as string);
    if (value === null) return exact(400, 'VALIDATION_FAILED', `a malformed escape in ${name}`);
    if (!paramValid(name, value)) return exact(400, 'VALIDATION_FAILED', `${name} is not an id`);
    decoded[name] = value;
  }
  const query = queryVerdict(route, rawQuery, p.cursor);
  if (query === 'invalid') return exact(400, 'VALIDATION_FAILED', 'a bad query string');
  const sameRoute = p.intended === route;
  if (route.body && p.bodyBytes > ROUTER_BODY_LIMIT)
    return exact(400, 'VALIDATION_FAILED', 'a body over the router limit');
  if (route.body && sameRoute && p.body === 'invalid')
    return exact(400, 'VALIDATION_FAILED', 'a body its schema refuses');
  const bodyOk = !route.body || (sameRoute && p.body === 'valid');
  if (query === 'valid' && bodyOk)
    for (const name of route.params)
      if (RESOURCE_PARAMS.has(name) && !p.exists(decoded[name] as string))
        return exact(404, 'NOT_FOUND', `no such ${name} in this tenant`);
  return anyOf(contractStatuses(route), `what ${route.method} ${route.path} may answer`);
}

/**
 * A request whose path holds a malformed escape (`%ZZ`) in a parameter of a route the caller
 * may not call. The router decodes while it matches, before the token and the role, so these
 * are answered 400 instead of 401/403: left out of the generators (see the hostile report).
 */
export function malformedEscapeBeforeRoleCheck(caller: Caller, method: string, path: string): boolean {
  const found = matchRoute(method, splitOnce(path, '?')[0]);
  if (found.kind !== 'found' || roleExpectation(caller, found.route) === null) return false;
  return Object.values(found.rawParams).some((raw) => decodeSegment(raw) === null);
}

function splitOnce(text: string, sep: string): [string, string] {
  const i = text.indexOf(sep);
  return i < 0 ? [text, ''] : [text.slice(0, i), text.slice(i + 1)];
}

/** API.md section 0 on query strings: unknown is 400, empty is absent, `limit` is 1..1000. */
export function queryVerdict(route: ApiRoute, rawQuery: string, cursor: Verdict = 'valid'): Verdict {
  const entries = [...new URLSearchParams(rawQuery)].filter(([, v]) => v !== '');
  const keys = entries.map(([k]) => k);
  // Not in API.md; the router refuses a repeated parameter, and this suite holds it to that.
  if (new Set(keys).size !== keys.length) return 'invalid';
  const props: Record<string, JsonSchema> = route.query?.properties ?? {};
  let verdict: Verdict = 'valid';
  for (const [key, value] of entries) {
    if (!Object.hasOwn(props, key)) return 'invalid';
    const v =
      key === 'cursor'
        ? cursorVerdict(props[key] as JsonSchema, value, cursor)
        : valueVerdict(props[key] as JsonSchema, value);
    if (v === 'invalid') return 'invalid';
    if (v === 'unknown') verdict = 'unknown';
  }
  if (Object.hasOwn(props, 'entityType') && Object.hasOwn(props, 'entityId'))
    if (keys.includes('entityType') !== keys.includes('entityId')) return 'invalid';
  return verdict;
}

function cursorVerdict(node: JsonSchema, value: string, cursor: Verdict): Verdict {
  if (node.maxLength !== undefined && codePoints(value) > node.maxLength) return 'invalid';
  return cursor;
}

/** Whether a query value fits its schema node; `unknown` where API.md leaves room. */
export function valueVerdict(node: JsonSchema, value: string): Verdict {
  if (node.maxLength !== undefined && codePoints(value) > node.maxLength) return 'invalid';
  if (node.enum) return node.enum.includes(value) ? 'valid' : 'invalid';
  if (node.type === 'integer') {
    const min = node.minimum ?? 0;
    const max = node.maximum ?? Number.MAX_SAFE_INTEGER;
    if (/^[1-9]\d{0,15}$|^0$/.test(value))
      return Number(value) >= min && Number(value) <= max ? 'valid' : 'invalid';
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max || Object.is(n, -0)) return 'invalid';
    return 'unknown'; // `0x10`, `1e3`, ` 5`: numbers by JavaScript's reading, not by a strict one
  }
  if (node.pattern) return new RegExp(node.pattern).test(value) ? 'valid' : 'invalid';
  return 'unknown';
}

/** Whether a string fits a body field's schema node; `unknown` where only the service can tell. */
export function stringVerdict(node: JsonSchema, value: string): Verdict {
  const v: JsonSchema = node.anyOf?.find((x: JsonSchema) => x.type === 'string') ?? node;
  if (v.const !== undefined) return value === v.const ? 'valid' : 'invalid';
  if (v.enum) return v.enum.includes(value) ? 'valid' : 'invalid';
  if (v.type !== undefined && v.type !== 'string') return 'invalid';
  if (v.maxLength !== undefined && codePoints(value) > v.maxLength) return 'invalid';
  if (v.minLength !== undefined && codePoints(value) < v.minLength) return 'invalid';
  if (v.pattern && !new RegExp(v.pattern).test(value)) return 'invalid';
  return 'unknown';
}

/** Whether a raw JSON token fits an integer field (safe integer within bounds, or a null it takes). */
export function numberVerdict(
  bounds: { min: number; max: number; nullable: boolean },
  token: string,
): Verdict {
  let value: unknown;
  try {
    value = JSON.parse(token);
  } catch {
    return 'invalid';
  }
  if (value === null) return bounds.nullable ? 'valid' : 'invalid';
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) return 'invalid';
  return value >= bounds.min && value <= bounds.max ? 'valid' : 'invalid';
}
