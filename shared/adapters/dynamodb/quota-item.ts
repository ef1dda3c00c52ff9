import { tableKeys } from '../../domain/keys.js';
import type { Quota } from '../../domain/quota.js';
import type { TableKey } from './batch.js';
import { itemReader } from './item-reader.js';
import type { RawAttribute } from './sdk-errors.js';
import type { Item } from './table-context.js';
import type { TransactUpdate } from './transact-write.js';

/**
 * The tenant's quota item and the counter moves of each file transition. `headroom` is
 * (limitBytes ?? 0) − usedBytes − reservedBytes, kept in step by every move, so "does it
 * fit?" is one condition on one attribute and concurrent reservations cannot overshoot.
 */
export const quotaItem = {
  key: (tenantId: string): TableKey => ({ PK: tableKeys.tenantPk(tenantId), SK: tableKeys.quotaSk }),

  fromItem(item: Item | undefined): Quota {
    if (!item) return { limitBytes: null, usedBytes: 0, reservedBytes: 0, fileCount: 0 };
    const read = itemReader(item);
    return {
      limitBytes: read.numberOrNull('limitBytes'),
      usedBytes: read.numberOrNull('usedBytes') ?? 0,
      reservedBytes: read.numberOrNull('reservedBytes') ?? 0,
      fileCount: read.numberOrNull('fileCount') ?? 0,
    };
  },

  /** The quota as it was when a transaction's condition failed (`ALL_OLD`, wire format). */
  fromRawItem(raw: Record<string, RawAttribute> | undefined): Quota {
    const num = (name: string) => {
      const value = raw?.[name]?.N;
      return value === undefined ? null : Number(value);
    };
    return {
      limitBytes: num('limitBytes'),
      usedBytes: num('usedBytes') ?? 0,
      reservedBytes: num('reservedBytes') ?? 0,
      fileCount: num('fileCount') ?? 0,
    };
  },

  /** Reserves `bytes` for a pending upload, only if they fit (creates the item on first use). */
  reserve(tableName: string, tenantId: string, bytes: number): TransactUpdate {
    return {
      TableName: tableName,
      Key: quotaItem.key(tenantId),
      UpdateExpression:
        'SET reservedBytes = if_not_exists(reservedBytes, :zero) + :n, headroom = if_not_exists(headroom, :zero) - :n, ' +
        'usedBytes = if_not_exists(usedBytes, :zero), fileCount = if_not_exists(fileCount, :zero), entity = :entity',
      ConditionExpression: 'attribute_not_exists(limitBytes) OR headroom >= :n',
      ExpressionAttributeValues: { ':n': bytes, ':zero': 0, ':entity': 'quota' },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    };
  },

  /** A reservation becomes used bytes and the file counts; headroom does not move. */
  commit: (tableName: string, tenantId: string, bytes: number): TransactUpdate => ({
    TableName: tableName,
    Key: quotaItem.key(tenantId),
    UpdateExpression: 'ADD reservedBytes :minus, usedBytes :n, fileCount :one',
    ExpressionAttributeValues: { ':n': bytes, ':minus': -bytes, ':one': 1 },
  }),

  /** A reservation is given back (rejected or abandoned upload). */
  release: (tableName: string, tenantId: string, bytes: number): TransactUpdate => ({
    TableName: tableName,
    Key: quotaItem.key(tenantId),
    UpdateExpression: 'ADD reservedBytes :minus, headroom :n',
    ExpressionAttributeValues: { ':n': bytes, ':minus': -bytes },
  }),

  /** A purged file's used bytes are freed and it stops counting. */
  free: (tableName: string, tenantId: string, bytes: number): TransactUpdate => ({
    TableName: tableName,
    Key: quotaItem.key(tenantId),
    UpdateExpression: 'ADD usedBytes :minus, fileCount :minusOne, headroom :n',
    ExpressionAttributeValues: { ':n': bytes, ':minus': -bytes, ':minusOne': -1 },
  }),
};
