import type { RawAnswer } from './http.js';
import type { ApiRoute } from './route-table.js';

/** API.md section 0: every error code a client may see, and its status. */
export const ERROR_CODES: Readonly<Record<string, number>> = {
  VALIDATION_FAILED: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  FILE_TOO_LARGE: 413,
  MIME_TYPE_NOT_ALLOWED: 415,
  PREVIEW_NOT_SUPPORTED: 415,
  PREVIEW_FAILED: 422,
  RATE_LIMITED: 429,
  QUOTA_EXCEEDED: 507,
  INTERNAL: 500,
};

/**
 * What a stack trace, a source path or an SDK's internal message looks like: none of it may
 * reach a client (API.md section 0).
 */
const LEAKS =
  /\bat [\w.<>]+ \(|\.(?:ts|js|mjs|cjs):\d+|node_modules|file:\/\/|\/work\/|\/home\/|\/tmp\/|[A-Z]\w+Exception\b|\b(?:TypeError|RangeError|ReferenceError|SyntaxError)\b|Cannot read propert|is not a function|ECONNREFUSED|ETIMEDOUT|\bstack\b/;

/** The statuses a route may answer: the ones it declares, plus 401/403 on routes that need a token. */
export function contractStatuses(route: ApiRoute): Set<number> {
  const out = new Set(route.declared);
  if (route.role !== 'public') for (const s of [400, 401, 403]) out.add(s);
  out.add(429); // throttling is optional, and always allowed
  return out;
}

export type Expectation =
  | { kind: 'exact'; status: number; code: string; why: string }
  | { kind: 'any-of'; statuses: Set<number>; why: string };

export const exact = (status: number, code: string, why: string): Expectation => ({
  kind: 'exact',
  status,
  code,
  why,
});
export const anyOf = (statuses: Iterable<number>, why: string): Expectation => ({
  kind: 'any-of',
  statuses: new Set(statuses),
  why,
});

/** A contract breach, with everything needed to replay it. */
export class ContractViolation extends Error {
  override readonly name = 'ContractViolation';
}

/**
 * Checks one answer against API.md: never a 5xx, the expected status, and for every non-2xx
 * the error body `{ error: { code, message, details? } }` with a catalogued code and nothing
 * internal in it. Throws a `ContractViolation` naming the request.
 */
export function checkAnswer(answer: RawAnswer, expected: Expectation, request: string): void {
  const problems: string[] = [];
  // 507 QUOTA_EXCEEDED is the one 5xx API.md allows; it is checked against the route below.
  if (answer.status >= 500 && !(answer.status === 507 && answer.body?.error?.code === 'QUOTA_EXCEEDED'))
    problems.push(`a ${answer.status}`);
  if (expected.kind === 'exact' && answer.status !== expected.status)
    problems.push(`status ${answer.status}, expected ${expected.status} (${expected.why})`);
  if (expected.kind === 'any-of' && !expected.statuses.has(answer.status))
    problems.push(
      `status ${answer.status}, expected one of ${[...expected.statuses].join('/')} (${expected.why})`,
    );
  if (answer.status >= 400) {
    problems.push(...errorBodyProblems(answer));
    if (expected.kind === 'exact' && answer.body?.error?.code !== expected.code)
      problems.push(`code ${answer.body?.error?.code}, expected ${expected.code}`);
  }
  if (LEAKS.test(answer.text) && answer.status >= 400) problems.push('an internal detail in the body');
  if (problems.length > 0)
    throw new ContractViolation(
      `${request}\n  → ${answer.status} ${answer.text.slice(0, 400)}\n  problems: ${problems.join('; ')}`,
    );
}

function errorBodyProblems(answer: RawAnswer): string[] {
  const body = answer.body;
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return ['the error body is not JSON'];
  const problems: string[] = [];
  if (Object.keys(body).join() !== 'error') problems.push(`top-level keys ${Object.keys(body).join()}`);
  const error = body.error;
  if (error === null || typeof error !== 'object') return [...problems, 'no error object'];
  const extra = Object.keys(error).filter((k) => !['code', 'message', 'details'].includes(k));
  if (extra.length > 0) problems.push(`unexpected error fields ${extra.join()}`);
  if (!(error.code in ERROR_CODES)) problems.push(`code ${error.code} is not in API.md`);
  else if (ERROR_CODES[error.code] !== answer.status)
    problems.push(`code ${error.code} goes with ${ERROR_CODES[error.code]}, not ${answer.status}`);
  if (typeof error.message !== 'string' || error.message === '') problems.push('no message');
  return problems;
}
