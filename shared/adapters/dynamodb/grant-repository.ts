import { DeleteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { tableKeys } from '../../domain/keys.js';
import type { EntityRef, Grant } from '../../domain/model.js';
import type { GrantRepository } from '../../ports/repositories.js';
import { batchDelete, batchGet, type TableKey } from './batch.js';
import { itemReader } from './item-reader.js';
import { keysWithPrefix, queryAll } from './query-all.js';
import { readPage } from './read-page.js';
import type { Item, TableContext } from './table-context.js';
import { INDEX_NAMES } from './table-definition.js';

/**
 * A grant lives in the entity's partition (list and delete an entity's grants in one query)
 * and, through GSI1, in the user's. Access checks read the user's grant on each referenced
 * entity by key, in one BatchGet.
 */
export function createGrantRepository(ctx: TableContext): GrantRepository {
  const { tableName } = ctx;
  const key = (tenantId: string, ref: EntityRef, userId: string): TableKey => ({
    PK: tableKeys.entityPk(tenantId, ref.entityType, ref.entityId),
    SK: tableKeys.grantSk(userId),
  });

  return {
    async put(tenantId, grant) {
      await ctx.client.send(
        new UpdateCommand({
          TableName: tableName,
          Key: key(tenantId, grant, grant.userId),
          // Changing the access of an existing grant keeps the time it was first given.
          UpdateExpression:
            'SET GSI1PK = :gsi1pk, GSI1SK = :gsi1sk, entity = :entity, entityType = :entityType, ' +
            'entityId = :entityId, userId = :userId, #access = :access, ' +
            'createdAt = if_not_exists(createdAt, :createdAt), updatedAt = :updatedAt',
          ExpressionAttributeNames: { '#access': 'access' },
          ExpressionAttributeValues: {
            ':gsi1pk': tableKeys.userPk(tenantId, grant.userId),
            ':gsi1sk': tableKeys.grantByUserSk(grant.entityType, grant.entityId),
            ':entity': 'grant',
            ':entityType': grant.entityType,
            ':entityId': grant.entityId,
            ':userId': grant.userId,
            ':access': grant.access,
            ':createdAt': grant.createdAt,
            ':updatedAt': grant.updatedAt,
          },
        }),
      );
    },

    async delete(tenantId, ref, userId) {
      const { Attributes } = await ctx.client.send(
        new DeleteCommand({ TableName: tableName, Key: key(tenantId, ref, userId), ReturnValues: 'ALL_OLD' }),
      );
      return Attributes !== undefined;
    },

    listForEntity(tenantId, ref, page) {
      const pk = tableKeys.entityPk(tenantId, ref.entityType, ref.entityId);
      return readPage(
        ctx,
        {
          fingerprint: JSON.stringify(['grants', tenantId, ref.entityType, ref.entityId]),
          keyAttributes: ['PK', 'SK'],
          fixed: { PK: pk },
          query: {
            KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
            ExpressionAttributeValues: { ':pk': pk, ':prefix': tableKeys.grantSkPrefix },
          },
        },
        page,
        fromItem,
      );
    },

    async listForUser(tenantId, userId) {
      const items = await queryAll(ctx, {
        IndexName: INDEX_NAMES.gsi1,
        KeyConditionExpression: 'GSI1PK = :pk',
        ExpressionAttributeValues: { ':pk': tableKeys.userPk(tenantId, userId) },
      });
      return items.map(fromItem);
    },

    async findForUser(tenantId, userId, refs) {
      if (refs.length === 0) return [];
      const items = await batchGet(
        ctx,
        refs.map((ref) => key(tenantId, ref, userId)),
      );
      return items.map(fromItem);
    },

    async deleteAllForEntity(tenantId, ref) {
      const pk = tableKeys.entityPk(tenantId, ref.entityType, ref.entityId);
      const keys = await keysWithPrefix(ctx, pk, tableKeys.grantSkPrefix);
      await batchDelete(ctx, keys);
      return keys.length;
    },
  };
}

function fromItem(item: Item): Grant {
  const read = itemReader(item);
  const access = read.string('access');
  if (access !== 'read' && access !== 'write') throw new TypeError(`Grant has unknown access ${access}.`);
  return {
    entityType: read.string('entityType'),
    entityId: read.string('entityId'),
    userId: read.string('userId'),
    access,
    createdAt: read.string('createdAt'),
    updatedAt: read.string('updatedAt'),
  };
}
