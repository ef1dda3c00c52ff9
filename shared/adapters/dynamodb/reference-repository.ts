import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { tableKeys } from '../../domain/keys.js';
import { MAX_REFERENCES_PER_FILE } from '../../domain/limits.js';
import { ReferenceLimitError, type ReferenceRepository } from '../../ports/repositories.js';
import { batchDelete, type TableKey } from './batch.js';
import { transactionApplied } from './conditional-write.js';
import { fileItem } from './file-item.js';
import { keysWithPrefix } from './query-all.js';
import { referenceItem } from './reference-item.js';
import { cancellationReasons, conditionFailedAt } from './sdk-errors.js';
import type { TableContext } from './table-context.js';
import { INDEX_NAMES } from './table-definition.js';
import { transactWrite } from './transact-write.js';

/**
 * A reference is its own item (so an entity can list its files through GSI1) and an entry of
 * the file's `refs` set (so a file answers with its references in one read). Both change in
 * one transaction; the file's condition decides whether the change is allowed, including the
 * cap on references per file (the set's size, so concurrent adds cannot overshoot it and files
 * written before the cap need no backfill).
 */
export function createReferenceRepository(ctx: TableContext): ReferenceRepository {
  const { tableName } = ctx;

  /** The transaction's second action is the file's: false when its condition failed. */
  const onFile = (items: Parameters<typeof transactionApplied>[1]) => transactionApplied(ctx, items, 1);

  return {
    async add(tenantId, fileId, ref, at) {
      const item = referenceItem.toItem(tenantId, fileId, ref, at);
      const [refString] = fileItem.refSet([ref]);
      try {
        await transactWrite(ctx, [
          {
            // An update, not a put, so adding an existing reference again keeps its first createdAt.
            Update: {
              TableName: tableName,
              Key: referenceItem.key(tenantId, fileId, ref),
              UpdateExpression:
                'SET GSI1PK = :gsi1pk, GSI1SK = :gsi1sk, entity = :entity, fileId = :fileId, ' +
                'entityType = :entityType, entityId = :entityId, createdAt = if_not_exists(createdAt, :at)',
              ExpressionAttributeValues: {
                ':gsi1pk': item.GSI1PK,
                ':gsi1sk': item.GSI1SK,
                ':entity': item.entity,
                ':fileId': fileId,
                ':entityType': ref.entityType,
                ':entityId': ref.entityId,
                ':at': at,
              },
            },
          },
          {
            Update: {
              TableName: tableName,
              Key: fileItem.key(tenantId, fileId),
              UpdateExpression: 'ADD refs :ref',
              // Also fails when the file is missing: a missing attribute is in no list. A file at
              // the cap still takes a reference it already holds (ADD changes nothing then).
              ConditionExpression:
                '#status IN (:pending, :active) AND ' +
                '(attribute_not_exists(refs) OR size(refs) < :max OR contains(refs, :refString))',
              ExpressionAttributeNames: { '#status': 'status' },
              ExpressionAttributeValues: {
                ':ref': fileItem.refSet([ref]),
                ':refString': refString,
                ':pending': 'pending',
                ':active': 'active',
                ':max': MAX_REFERENCES_PER_FILE,
              },
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            },
          },
        ]);
        return true;
      } catch (error) {
        const reasons = cancellationReasons(error);
        if (!reasons || !conditionFailedAt(reasons, 1)) throw error;
        const old = reasons[1]?.item;
        const alive = old?.status?.S === 'pending' || old?.status?.S === 'active';
        const held = (old?.refs as { SS?: string[] } | undefined)?.SS?.length ?? 0;
        if (alive && held >= MAX_REFERENCES_PER_FILE)
          throw new ReferenceLimitError(MAX_REFERENCES_PER_FILE, { cause: error });
        return false;
      }
    },

    remove(tenantId, fileId, ref) {
      return onFile([
        { Delete: { TableName: tableName, Key: referenceItem.key(tenantId, fileId, ref) } },
        {
          Update: {
            TableName: tableName,
            Key: fileItem.key(tenantId, fileId),
            UpdateExpression: 'DELETE refs :ref',
            ConditionExpression: 'attribute_exists(PK)',
            ExpressionAttributeValues: { ':ref': fileItem.refSet([ref]) },
          },
        },
      ]);
    },

    async listFileIds(tenantId, ref, page) {
      const pk = tableKeys.entityPk(tenantId, ref.entityType, ref.entityId);
      // The key of the reference after which to resume is derivable from the file id alone.
      let startKey: Record<string, unknown> | undefined = page.afterFileId
        ? {
            ...referenceItem.key(tenantId, page.afterFileId, ref),
            GSI1PK: pk,
            GSI1SK: tableKeys.referenceByEntitySk(page.afterFileId),
          }
        : undefined;
      const ids: string[] = [];
      do {
        const answer = await ctx.client.send(
          new QueryCommand({
            TableName: tableName,
            IndexName: INDEX_NAMES.gsi1,
            KeyConditionExpression: 'GSI1PK = :pk',
            ExpressionAttributeValues: { ':pk': pk },
            // File ids are ULIDs: backwards is newest first.
            ScanIndexForward: false,
            Limit: page.limit - ids.length,
            ExclusiveStartKey: startKey,
          }),
        );
        for (const item of answer.Items ?? []) ids.push(item.fileId as string);
        startKey = answer.LastEvaluatedKey;
      } while (ids.length < page.limit && startKey);
      return ids;
    },

    async removeAllForFile(tenantId, fileId, refs) {
      // The stored reference items are the truth (the file item, and its refs, may be gone);
      // the given refs are added in case an item is not visible to the query yet.
      const keys: TableKey[] = refs.map((ref) => referenceItem.key(tenantId, fileId, ref));
      keys.push(
        ...(await keysWithPrefix(ctx, tableKeys.filePk(tenantId, fileId), tableKeys.referenceSkPrefix)),
      );
      await batchDelete(ctx, keys);
    },
  };
}
