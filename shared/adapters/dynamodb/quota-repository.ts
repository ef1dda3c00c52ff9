import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { QuotaRepository } from '../../ports/repositories.js';
import { backoff } from './backoff.js';
import { quotaItem } from './quota-item.js';
import { isConditionalCheckFailed, isTransactionConflictError } from './sdk-errors.js';
import type { TableContext } from './table-context.js';

const SET_LIMIT_ATTEMPTS = 6;

export function createQuotaRepository(ctx: TableContext): QuotaRepository {
  const read = async (tenantId: string) => {
    const { Item } = await ctx.client.send(
      new GetCommand({ TableName: ctx.tableName, Key: quotaItem.key(tenantId), ConsistentRead: true }),
    );
    return Item;
  };

  return {
    async get(tenantId) {
      return quotaItem.fromItem(await read(tenantId));
    },

    /**
     * Headroom depends on the counters, which uploads move concurrently: write the limit and the
     * headroom computed from the counters just read, on condition that they have not moved since.
     */
    async setLimit(tenantId, limitBytes) {
      for (let attempt = 1; ; attempt++) {
        const item = await read(tenantId);
        const current = quotaItem.fromItem(item);
        const headroom = (limitBytes ?? 0) - current.usedBytes - current.reservedBytes;
        try {
          const { Attributes } = await ctx.client.send(
            new UpdateCommand({
              TableName: ctx.tableName,
              Key: quotaItem.key(tenantId),
              UpdateExpression:
                'SET headroom = :headroom, usedBytes = :used, reservedBytes = :reserved, ' +
                'fileCount = if_not_exists(fileCount, :zero), entity = :entity' +
                (limitBytes === null ? ' REMOVE limitBytes' : ', limitBytes = :limit'),
              ConditionExpression: item
                ? 'usedBytes = :used AND reservedBytes = :reserved'
                : 'attribute_not_exists(PK)',
              ExpressionAttributeValues: {
                ':headroom': headroom,
                ':used': current.usedBytes,
                ':reserved': current.reservedBytes,
                ':zero': 0,
                ':entity': 'quota',
                ...(limitBytes === null ? {} : { ':limit': limitBytes }),
              },
              ReturnValues: 'ALL_NEW',
            }),
          );
          return quotaItem.fromItem(Attributes);
        } catch (error) {
          const raced = isConditionalCheckFailed(error) || isTransactionConflictError(error);
          if (!raced) throw error;
          if (attempt >= SET_LIMIT_ATTEMPTS) {
            throw new Error(`The quota of ${tenantId} kept changing; the limit was not set.`, {
              cause: error,
            });
          }
          await backoff(attempt);
        }
      }
    },

    async reconcile(tenantId, seen, actual) {
      const headroom = (seen.limitBytes ?? 0) - actual.usedBytes - actual.reservedBytes;
      try {
        await ctx.client.send(
          new UpdateCommand({
            TableName: ctx.tableName,
            Key: quotaItem.key(tenantId),
            UpdateExpression:
              'SET usedBytes = :used, reservedBytes = :reserved, fileCount = :count, headroom = :headroom, entity = :entity',
            // Unchanged since the check read them: a concurrent upload makes the repair wait for a quiet moment.
            ConditionExpression:
              'attribute_not_exists(PK) OR (usedBytes = :seenUsed AND reservedBytes = :seenReserved AND fileCount = :seenCount)',
            ExpressionAttributeValues: {
              ':used': actual.usedBytes,
              ':reserved': actual.reservedBytes,
              ':count': actual.fileCount,
              ':headroom': headroom,
              ':entity': 'quota',
              ':seenUsed': seen.usedBytes,
              ':seenReserved': seen.reservedBytes,
              ':seenCount': seen.fileCount,
            },
          }),
        );
        return true;
      } catch (error) {
        if (isConditionalCheckFailed(error)) return false;
        throw error;
      }
    },
  };
}
