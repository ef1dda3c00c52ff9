import type { z } from 'zod';
import type { Actor, Role } from '../../shared/domain/model.js';
import type { Services } from '../../shared/services/index.js';
import { ErrorResponse } from './schemas.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface HttpResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface RouteInput<P, Q, B> {
  actor: Actor;
  params: P;
  query: Q;
  body: B;
  /** The API's own origin (`https://api.example.com`), for URLs that point back at it. */
  origin: string;
}

/**
 * One API.md route: how it is matched, who may call it (checked before input is parsed, per
 * API.md's order of checks), how its input is validated, and the use case it calls. The same
 * objects generate the OpenAPI document.
 */
export interface Route<P = unknown, Q = unknown, B = unknown> {
  method: HttpMethod;
  path: string;
  operationId: string;
  summary: string;
  /** `public` routes need no token. */
  role: Role | 'public';
  params?: z.ZodType<P>;
  query?: z.ZodType<Q>;
  body?: z.ZodType<B>;
  /** Status → description and schema of the body, for the OpenAPI document. */
  responses: Record<number, { description: string; schema?: z.ZodType }>;
  handle(input: RouteInput<P, Q, B>, services: Services): Promise<HttpResponse>;
}

/** Keeps each route's param, query and body types inferred from its schemas. */
export const route = <P = Record<string, never>, Q = Record<string, never>, B = undefined>(
  definition: Route<P, Q, B>,
): Route => definition as unknown as Route;

export const json = (status: number, body: unknown, headers?: Record<string, string>): HttpResponse => ({
  status,
  body,
  headers,
});
export const noContent = (): HttpResponse => ({ status: 204 });

/** An error answer of the OpenAPI document: API.md's error body, with what causes it. */
export const errorAnswer = (description: string) => ({ description, schema: ErrorResponse });
