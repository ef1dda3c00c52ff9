import { BatchGetCommand, BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { backoff } from './backoff.js';
import type { Item, TableContext } from './table-context.js';

/** A type alias, not an interface, so it fits the SDK's `Record<string, unknown>` keys. */
export type TableKey = { PK: string; SK: string };

const GET_CHUNK = 100;
const WRITE_CHUNK = 25;
const MAX_ATTEMPTS = 8;

/**
 * Reads items by key (strongly consistent), in chunks of 100, retrying the keys DynamoDB left
 * unprocessed. Missing items are simply absent from the answer, whose order is undefined.
 */
export async function batchGet(ctx: TableContext, keys: readonly TableKey[]): Promise<Item[]> {
  const found: Item[] = [];
  for (const chunk of chunks(uniqueKeys(keys), GET_CHUNK)) {
    let pending: Record<string, unknown>[] = chunk;
    for (let attempt = 1; pending.length > 0; attempt++) {
      if (attempt > MAX_ATTEMPTS) throw new Error(`BatchGet left ${pending.length} keys unprocessed.`);
      if (attempt > 1) await backoff(attempt - 1);
      const answer = await ctx.client.send(
        new BatchGetCommand({ RequestItems: { [ctx.tableName]: { Keys: pending, ConsistentRead: true } } }),
      );
      found.push(...(answer.Responses?.[ctx.tableName] ?? []));
      pending = answer.UnprocessedKeys?.[ctx.tableName]?.Keys ?? [];
    }
  }
  return found;
}

/** Deletes items by key in chunks of 25, retrying what DynamoDB left unprocessed; missing keys are fine. */
export async function batchDelete(ctx: TableContext, keys: readonly TableKey[]): Promise<void> {
  for (const chunk of chunks(uniqueKeys(keys), WRITE_CHUNK)) {
    let pending = chunk.map((key) => ({ DeleteRequest: { Key: key as Record<string, unknown> } }));
    for (let attempt = 1; pending.length > 0; attempt++) {
      if (attempt > MAX_ATTEMPTS) throw new Error(`BatchWrite left ${pending.length} deletes unprocessed.`);
      if (attempt > 1) await backoff(attempt - 1);
      const answer = await ctx.client.send(
        new BatchWriteCommand({ RequestItems: { [ctx.tableName]: pending } }),
      );
      pending = (answer.UnprocessedItems?.[ctx.tableName] ?? []).flatMap((request) =>
        request.DeleteRequest?.Key ? [{ DeleteRequest: { Key: request.DeleteRequest.Key } }] : [],
      );
    }
  }
}

/** DynamoDB refuses a batch that names the same key twice. */
function uniqueKeys(keys: readonly TableKey[]): TableKey[] {
  const seen = new Map<string, TableKey>();
  for (const key of keys) seen.set(JSON.stringify([key.PK, key.SK]), { PK: key.PK, SK: key.SK });
  return [...seen.values()];
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
