import { monotonicFactory } from 'ulid';
import type { IdGenerator } from '../ports/clock.js';

/** ULIDs: 26 characters of Crockford base32, sortable by creation time. */
export function createUlidGenerator(): IdGenerator {
  const next = monotonicFactory();
  return { next: () => next() };
}
