import { validationFailed } from '../domain/errors.js';
import type { Page } from '../domain/model.js';

/**
 * Pages a small, fully read list. The cursor is the last id handed out, so it stays valid
 * while items are added or removed.
 */
export function pageInMemory<T>(
  items: readonly T[],
  idOf: (item: T) => string,
  page: { limit: number; cursor?: string },
): Page<T> {
  let start = 0;
  if (page.cursor) {
    const after = decodeCursor(page.cursor);
    const index = items.findIndex((item) => idOf(item) === after);
    start = index + 1;
  }
  const slice = items.slice(start, start + page.limit);
  const more = start + page.limit < items.length;
  const last = slice.at(-1);
  return { items: slice, nextCursor: more && last ? encodeCursor(idOf(last)) : null };
}

const encodeCursor = (id: string) => Buffer.from(JSON.stringify({ after: id }), 'utf8').toString('base64url');

function decodeCursor(cursor: string): string {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { after?: unknown };
    if (typeof value.after === 'string') return value.after;
  } catch {
    // fall through
  }
  throw validationFailed('cursor is not valid.');
}
