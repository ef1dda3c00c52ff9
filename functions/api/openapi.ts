import * as z from 'zod';
import type { Route } from './route.js';

type JsonSchema = Record<string, unknown>;

/**
 * The OpenAPI 3.1 document of the routes, generated from the same zod schemas that validate
 * requests. Named schemas (`.meta({ id })`) become components; everything else is inline.
 */
export function buildOpenApi(routes: readonly Route[], info: { title: string; version: string }) {
  const components: Record<string, JsonSchema> = {};

  const toSchema = (schema: z.ZodType, io: 'input' | 'output'): JsonSchema => {
    const converted = z.toJSONSchema(schema, {
      target: 'draft-2020-12',
      io,
      unrepresentable: 'any',
    }) as JsonSchema;
    const { $schema: _, $defs, ...rest } = converted;
    for (const [id, def] of Object.entries(($defs ?? {}) as Record<string, JsonSchema>))
      components[id] = rewriteRefs(def) as JsonSchema;
    const id = z.globalRegistry.get(schema)?.id;
    if (typeof id === 'string') {
      // zod puts a named root in $defs itself and answers a $ref; older output inlines it.
      if (!('$ref' in rest)) components[id] = rewriteRefs(rest) as JsonSchema;
      return { $ref: `#/components/schemas/${id}` };
    }
    return rewriteRefs(rest) as JsonSchema;
  };

  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const parameters: unknown[] = [];
    for (const [where, schema] of [
      ['path', r.params],
      ['query', r.query],
    ] as const) {
      if (!schema) continue;
      const json = toSchema(schema, 'input');
      const properties = (json.properties ?? {}) as Record<string, JsonSchema>;
      const required = new Set((json.required ?? []) as string[]);
      for (const [name, prop] of Object.entries(properties))
        parameters.push({ name, in: where, required: where === 'path' || required.has(name), schema: prop });
      // A query that takes `metadata.KEY=value` (API.md 13.3): a form-exploded object, one entry.
      const extra = json.additionalProperties;
      if (where === 'query' && extra && typeof extra === 'object')
        parameters.push({
          name: 'metadata',
          in: 'query',
          required: false,
          style: 'form',
          explode: true,
          description:
            'metadata.KEY=value: only files whose metadata holds KEY with exactly this value (one key).',
          schema: {
            type: 'object',
            propertyNames: { pattern: '^metadata\\.[A-Za-z0-9_.-]{1,64}$' },
            additionalProperties: extra,
            maxProperties: 1,
          },
        });
    }
    const responses: Record<string, unknown> = {};
    for (const [status, response] of Object.entries(r.responses))
      responses[status] = response.schema
        ? {
            description: response.description,
            content: { 'application/json': { schema: toSchema(response.schema, 'output') } },
          }
        : { description: response.description };
    const operation: Record<string, unknown> = {
      operationId: r.operationId,
      summary: r.summary,
      parameters,
      responses,
      ...(r.role === 'public' ? { security: [] } : { 'x-stowage-role': r.role }),
    };
    if (r.body)
      operation.requestBody = {
        required: true,
        content: { 'application/json': { schema: toSchema(r.body, 'input') } },
      };
    paths[r.path] ??= {};
    (paths[r.path] as Record<string, unknown>)[r.method.toLowerCase()] = operation;
  }

  return {
    openapi: '3.1.0',
    info,
    security: [{ bearerAuth: [] }],
    paths,
    components: {
      schemas: components,
      securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
    },
  };
}

function rewriteRefs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(rewriteRefs);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value))
      out[k] =
        k === '$ref' && typeof v === 'string'
          ? v.replace('#/$defs/', '#/components/schemas/')
          : rewriteRefs(v);
    return out;
  }
  return value;
}
