import { createHash } from 'node:crypto';
import { validationFailed } from '../domain/errors.js';
import type { Page } from '../domain/model.js';

/**
 * Cursors the services hand out themselves: the last id handed out, bound by a digest to the
 * query's scope (tenant, route, filters), so a cursor is valid only with the same query
 * (API.md section 0). The repositories' own cursors work the same way.
 */
export function encodeCursor(scope: string, after: string): string {
  return Buffer.from(JSON.stringify({ a: after, d: digest(scope, after) }), 'utf8').toString('base64url');
}

export function decodeCursor(scope: string, cursor: string): string {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as {
      a?: unknown;
      d?: unknown;
    };
    if (typeof value.a === 'string' && value.d === digest(scope, value.a)) return value.a;
  } catch {
    // fall through
  }
  throw validationFailed('cursor is not valid for this query.');
}

const digest = (scope: string, after: string) =>
  createHash('sha256').update(scope).update('\u0000').update(after).digest('base64url').slice(0, 22);

/** Pages a small, fully read list whose ids ascend; the cursor is the last id handed out. */
export function pageInMemory<T>(
  items: readonly T[],
  idOf: (item: T) => string,
  page: { limit: number; cursor?: string },
  scope: string,
): Page<T> {
  let start = 0;
  if (page.cursor) {
    const after = decodeCursor(scope, page.cursor);
    const index = items.findIndex((item) => idOf(item) === after);
    // The item itself may be gone meanwhile: resume after where it stood.
    start = index >= 0 ? index + 1 : items.filter((item) => idOf(item) <= after).length;
  }
  const slice = items.slice(start, start + page.limit);
  const more = start + page.limit < items.length;
  const last = slice.at(-1);
  return { items: slice, nextCursor: more && last ? encodeCursor(scope, idOf(last)) : null };
}
