import { tableKeys } from '../../domain/keys.js';
import type { TableKey } from './batch.js';
import type { TransactUpdate } from './transact-write.js';

/**
 * `liveFiles` on the bucket item: its pending, active and soft-deleted files (rejected ones do
 * not keep a bucket). A pending file is counted in the transaction that creates it, conditional
 * on the bucket item existing, and uncounted in the one that rejects, abandons or purges it; the
 * bucket's delete is conditional on the count being zero. So a delete and an initiation cannot
 * both succeed, which a check of the (eventually consistent) listing index cannot promise.
 *
 * Buckets written before the counter have no `liveFiles` until their next upload, and their
 * count then misses the older files; deleting them still runs the index check first, and
 * `npm run fsck -- --fix` sets every bucket's count to what its files add up to.
 */
export const bucketCounter = {
  key: (tenantId: string, bucketId: string): TableKey => ({
    PK: tableKeys.tenantPk(tenantId),
    SK: tableKeys.bucketSk(bucketId),
  }),

  /** Counts a new pending file; fails when the bucket is gone (deleted meanwhile). */
  enter: (tableName: string, tenantId: string, bucketId: string): TransactUpdate => ({
    TableName: tableName,
    Key: bucketCounter.key(tenantId, bucketId),
    UpdateExpression: 'ADD liveFiles :one',
    ConditionExpression: 'attribute_exists(PK)',
    ExpressionAttributeValues: { ':one': 1 },
  }),

  /**
   * Uncounts a file that leaves the bucket for good. Conditional on the bucket item, so ADD
   * never conjures a half bucket; a file whose bucket is already gone (deleted before the counter
   * existed) is moved without it.
   */
  leave: (tableName: string, tenantId: string, bucketId: string): TransactUpdate => ({
    TableName: tableName,
    Key: bucketCounter.key(tenantId, bucketId),
    UpdateExpression: 'ADD liveFiles :minusOne',
    ConditionExpression: 'attribute_exists(PK)',
    ExpressionAttributeValues: { ':minusOne': -1 },
  }),

  /** The delete's condition: no counted file (a bucket without the counter falls back to the check). */
  emptyCondition: 'attribute_not_exists(liveFiles) OR liveFiles <= :noFiles',
  emptyValues: { ':noFiles': 0 },
};
