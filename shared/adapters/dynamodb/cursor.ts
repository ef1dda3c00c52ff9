import { createHash } from 'node:crypto';
import { InvalidCursorError } from '../../ports/repositories.js';
import type { Item } from './table-context.js';

/** What a cursor is bound to. */
export interface CursorScope {
  /** Names the query: index, partition and filters (and the tenant). Another scope's cursor is refused. */
  fingerprint: string;
  /** The key attributes DynamoDB needs to resume: the table's keys plus the index's. */
  keyAttributes: readonly string[];
  /**
   * Key attributes whose value the query fixes (its partition key). A cursor can only resume
   * inside that partition, even if someone forged a matching digest.
   */
  fixed?: Readonly<Record<string, string>>;
}

interface CursorPayload {
  /** The key values, in `keyAttributes` order. */
  k: string[];
  /** Digest of the scope's fingerprint and the key values. */
  d: string;
}

/** An opaque cursor that resumes the query after `item`. */
export function encodeCursor(scope: CursorScope, item: Item): string {
  const values = scope.keyAttributes.map((name) => {
    const value = item[name];
    if (typeof value !== 'string') throw new TypeError(`Cannot page after an item without ${name}.`);
    return value;
  });
  const payload: CursorPayload = { k: values, d: digest(scope.fingerprint, values) };
  return Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url');
}

/** The ExclusiveStartKey a cursor stands for; undefined for the first page. */
export function decodeCursor(scope: CursorScope, cursor: string | undefined): Item | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  const values = readPayload(cursor, scope);
  const key: Record<string, string> = {};
  scope.keyAttributes.forEach((name, i) => {
    key[name] = values[i] as string;
  });
  for (const [name, value] of Object.entries(scope.fixed ?? {})) {
    if (key[name] !== value) throw invalid();
  }
  return key;
}

function readPayload(cursor: string, scope: CursorScope): string[] {
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw invalid();
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (typeof payload !== 'object' || payload === null) throw invalid();
  const { k, d } = payload as Partial<CursorPayload>;
  const wellFormed =
    Array.isArray(k) &&
    k.length === scope.keyAttributes.length &&
    k.every((value) => typeof value === 'string') &&
    typeof d === 'string';
  if (!wellFormed || d !== digest(scope.fingerprint, k)) throw invalid();
  return k;
}

const digest = (fingerprint: string, values: readonly string[]) =>
  createHash('sha256')
    .update(JSON.stringify([fingerprint, values]))
    .digest('base64url')
    .slice(0, 22);

const invalid = () => new InvalidCursorError('The cursor is malformed or belongs to another query.');
