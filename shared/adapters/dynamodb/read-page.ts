import {
  QueryCommand,
  type QueryCommandInput,
  ScanCommand,
  type ScanCommandInput,
} from '@aws-sdk/lib-dynamodb';
import type { Page } from '../../domain/model.js';
import type { PageRequest } from '../../ports/repositories.js';
import { type CursorScope, decodeCursor, encodeCursor } from './cursor.js';
import type { Item, TableContext } from './table-context.js';

type Paging = 'TableName' | 'Limit' | 'ExclusiveStartKey';

export type PageSource = CursorScope &
  (
    | { query: Omit<QueryCommandInput, Paging>; scan?: never }
    | { scan: Omit<ScanCommandInput, Paging>; query?: never }
  );

/** With a filter, each request reads at least this many items, so sparse matches take few round trips. */
const FILTERED_BATCH = 100;

/**
 * Reads one page: at most `limit` items, and a cursor exactly when more matching items follow.
 * DynamoDB applies `Limit` before the FilterExpression and may stop at 1 MB, so a single request
 * can return fewer matches than exist: this keeps reading until it holds limit + 1 matches (the
 * extra one proves there is more) or the index is exhausted. The cursor is built from the last
 * returned item's keys, so items read beyond it are read again by the next page. `accept`
 * filters mapped items in code (rules DynamoDB cannot express) within the same loop.
 *
 * `page.maxRead` bounds the items read (DynamoDB's `Limit` counts items evaluated, before the
 * filter): once spent, the page holds what matched so far and its cursor is where DynamoDB
 * stopped (`LastEvaluatedKey`), so the next page goes on from there and nothing is skipped.
 */
export async function readPage<T>(
  ctx: TableContext,
  source: PageSource,
  page: PageRequest,
  map: (item: Item) => T,
  accept?: (value: T) => boolean,
): Promise<Page<T>> {
  if (!Number.isInteger(page.limit) || page.limit < 1) {
    throw new RangeError(`Page limit must be >= 1, got ${page.limit}.`);
  }
  const budget = page.maxRead ?? Number.POSITIVE_INFINITY;
  if (!(budget >= 1)) throw new RangeError(`maxRead must be >= 1, got ${page.maxRead}.`);
  const wanted = page.limit + 1;
  const filtered = Boolean((source.query ?? source.scan)?.FilterExpression) || accept !== undefined;
  const found: { item: Item; value: T }[] = [];
  let read = 0;
  let startKey = decodeCursor(source, page.cursor);
  do {
    const missing = wanted - found.length;
    const Limit = Math.min(filtered ? Math.max(missing, FILTERED_BATCH) : missing, budget - read);
    const answer = source.query
      ? await ctx.client.send(
          new QueryCommand({ ...source.query, TableName: ctx.tableName, Limit, ExclusiveStartKey: startKey }),
        )
      : await ctx.client.send(
          new ScanCommand({ ...source.scan, TableName: ctx.tableName, Limit, ExclusiveStartKey: startKey }),
        );
    read += answer.ScannedCount ?? Limit;
    for (const item of answer.Items ?? []) {
      const value = map(item);
      if (!accept || accept(value)) found.push({ item, value });
    }
    startKey = answer.LastEvaluatedKey;
  } while (found.length < wanted && startKey && read < budget);

  const items = found.slice(0, page.limit);
  const last = items.at(-1);
  if (found.length > page.limit && last) {
    return { items: items.map((f) => f.value), nextCursor: encodeCursor(source, last.item) };
  }
  // Out of budget before the page filled: go on after the last item read, not the last shown.
  const nextCursor = startKey ? encodeCursor(source, startKey) : null;
  return { items: items.map((f) => f.value), nextCursor };
}
