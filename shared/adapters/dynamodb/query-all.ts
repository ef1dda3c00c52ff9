import { QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type { TableKey } from './batch.js';
import type { Item, TableContext } from './table-context.js';

/** Every item a query matches, following LastEvaluatedKey; for bounded sets (grants, references). */
export async function queryAll(
  ctx: TableContext,
  input: Omit<QueryCommandInput, 'TableName' | 'ExclusiveStartKey'>,
): Promise<Item[]> {
  const items: Item[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const answer = await ctx.client.send(
      new QueryCommand({ ...input, TableName: ctx.tableName, ExclusiveStartKey: startKey }),
    );
    items.push(...(answer.Items ?? []));
    startKey = answer.LastEvaluatedKey;
  } while (startKey);
  return items;
}

/** The table keys of every item in a partition whose sort key starts with `prefix`. */
export async function keysWithPrefix(ctx: TableContext, pk: string, prefix: string): Promise<TableKey[]> {
  const items = await queryAll(ctx, {
    KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
    ExpressionAttributeValues: { ':pk': pk, ':prefix': prefix },
    ProjectionExpression: 'PK, SK',
    ConsistentRead: true,
  });
  return items.map((item) => ({ PK: item.PK as string, SK: item.SK as string }));
}
