import { z } from 'zod';
import type { Route } from '../../../functions/api/route.js';
import { routes } from '../../../functions/api/routes.js';

/** A JSON Schema node, as zod writes it. */
export type JsonSchema = Record<string, any>;
export type Role = 'admin' | 'member' | 'viewer';

export interface ApiRoute {
  method: string;
  path: string;
  operationId: string;
  role: Role | 'public';
  /** Path parameter names, in order. */
  params: string[];
  /** The statuses the route declares (API.md), 2xx and 4xx. */
  declared: Set<number>;
  body: JsonSchema | null;
  /** The id of the body schema (`CreateBucketRequest`...), to find a valid sample for it. */
  bodyId: string | null;
  query: JsonSchema | null;
  pattern: RegExp;
}

/** JSON Schema of a zod schema with every `$ref` inlined, so fields can be walked. */
export function jsonSchemaOf(schema: z.ZodType): JsonSchema {
  const doc = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const defs: Record<string, JsonSchema> = doc.$defs ?? {};
  const inline = (node: unknown): any => {
    if (Array.isArray(node)) return node.map(inline);
    if (node === null || typeof node !== 'object') return node;
    const ref = (node as JsonSchema).$ref;
    if (typeof ref === 'string') return inline(defs[ref.replace('#/$defs/', '')]);
    const out: JsonSchema = {};
    for (const [k, v] of Object.entries(node)) if (k !== '$defs' && k !== '$schema') out[k] = inline(v);
    return out;
  };
  return inline(doc);
}

const schemaId = (schema: z.ZodType): string | null => {
  const id = z.globalRegistry.get(schema)?.id;
  return typeof id === 'string' ? id : null;
};

function toApiRoute(route: Route): ApiRoute {
  const params: string[] = [];
  const source = route.path.replace(/\{(\w+)\}/g, (_, name: string) => {
    params.push(name);
    return '([^/]+)';
  });
  return {
    method: route.method,
    path: route.path,
    operationId: route.operationId,
    role: route.role,
    params,
    declared: new Set(Object.keys(route.responses).map(Number)),
    body: route.body ? jsonSchemaOf(route.body) : null,
    bodyId: route.body ? schemaId(route.body) : null,
    query: route.query ? jsonSchemaOf(route.query) : null,
    pattern: new RegExp(`^${source}$`),
  };
}

/**
 * Every route of the API, straight from the route table, plus `GET /v1/openapi.json`, which
 * the router adds itself (routes.ts says so). No second list is kept here.
 */
export const apiRoutes: ApiRoute[] = [
  ...routes,
  {
    method: 'GET',
    path: '/v1/openapi.json',
    operationId: 'getOpenApi',
    summary: 'added by the router',
    role: 'public',
    responses: { 200: { description: 'OpenAPI 3.1 document' } },
    handle: async () => ({ status: 200 }),
  } satisfies Route,
].map(toApiRoute);

export const routesWithParams = apiRoutes.filter((r) => r.params.length > 0);
export const routesWithBody = apiRoutes.filter((r) => r.body !== null);
export const authedRoutes = apiRoutes.filter((r) => r.role !== 'public');

export const routeLabel = (r: Pick<ApiRoute, 'method' | 'path'>) => `${r.method} ${r.path}`;

/** Builds a path from raw (already encoded, possibly hostile) segments. */
export function fillPath(route: ApiRoute, segments: Record<string, string>): string {
  return route.path.replace(/\{(\w+)\}/g, (_, name: string) => segments[name] ?? 'missing');
}

export type Matched =
  | { kind: 'found'; route: ApiRoute; rawParams: Record<string, string> }
  | { kind: 'method-not-allowed'; allow: string[] }
  | { kind: 'not-found' };

/**
 * Which route a method and raw path name, by the route table's templates (a segment is
 * anything but `/`). The oracle's own matcher, independent of the router's.
 */
export function matchRoute(method: string, rawPath: string): Matched {
  const allow: string[] = [];
  for (const route of apiRoutes) {
    const m = route.pattern.exec(rawPath);
    if (!m) continue;
    if (route.method !== method) {
      allow.push(route.method);
      continue;
    }
    const rawParams: Record<string, string> = {};
    route.params.forEach((name, i) => {
      rawParams[name] = m[i + 1] as string;
    });
    return { kind: 'found', route, rawParams };
  }
  return allow.length > 0 ? { kind: 'method-not-allowed', allow } : { kind: 'not-found' };
}

export type JsonType = 'string' | 'number' | 'integer' | 'boolean' | 'null' | 'array' | 'object';

export interface FieldSpec {
  /** Where the field sits: object keys and array indexes (always 0). */
  path: (string | number)[];
  /** The JSON types the schema accepts there (`integer` implies whole numbers only). */
  types: Set<JsonType>;
  node: JsonSchema;
}

/** Every field of a body schema, nested ones included (array items as index 0). */
export function fieldsOf(schema: JsonSchema, path: (string | number)[] = []): FieldSpec[] {
  const out: FieldSpec[] = [];
  const variants: JsonSchema[] = schema.anyOf ?? [schema];
  const types = new Set<JsonType>();
  for (const v of variants) {
    if (v.type) types.add(v.type as JsonType);
    else if (v.const !== undefined || v.enum) types.add('string');
  }
  if (path.length > 0) out.push({ path, types, node: schema });
  for (const v of variants) {
    if (v.type === 'object' && v.properties)
      for (const [key, child] of Object.entries(v.properties as Record<string, JsonSchema>))
        out.push(...fieldsOf(child, [...path, key]));
    if (v.type === 'array' && v.items) out.push(...fieldsOf(v.items, [...path, 0]));
  }
  return out;
}

/** The integer bounds a schema node puts on a field, if it is an integer field. */
export function integerBounds(node: JsonSchema): { min: number; max: number; nullable: boolean } | null {
  const variants: JsonSchema[] = node.anyOf ?? [node];
  const int = variants.find((v) => v.type === 'integer');
  if (!int) return null;
  return {
    min: int.minimum ?? Number.MIN_SAFE_INTEGER,
    max: int.maximum ?? Number.MAX_SAFE_INTEGER,
    nullable: variants.some((v) => v.type === 'null'),
  };
}
