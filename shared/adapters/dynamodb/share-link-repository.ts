import { GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { tableKeys } from '../../domain/keys.js';
import type { ShareLink } from '../../domain/share-link.js';
import { AlreadyExistsError, type ShareLinkRepository } from '../../ports/repositories.js';
import { writeApplied } from './conditional-write.js';
import { itemReader } from './item-reader.js';
import { cancellationReasons, isConditionalCheckFailed } from './sdk-errors.js';
import type { Item, TableContext } from './table-context.js';
import { INDEX_NAMES, TTL_ATTRIBUTE } from './table-definition.js';
import { transactWrite } from './transact-write.js';

/** Kept this long after expiry (for the file's link list), then DynamoDB's TTL may remove them. */
const KEEP_AFTER_EXPIRY_SECONDS = 30 * 24 * 3600;

const linkKey = (tenantId: string, tokenHash: string) => ({
  PK: tableKeys.shareLinkPk(tenantId, tokenHash),
  SK: tableKeys.shareLinkSk,
});
const idKey = (tenantId: string, linkId: string) => ({
  PK: tableKeys.shareLinkIdPk(tenantId, linkId),
  SK: tableKeys.shareLinkIdSk,
});

function fromItem(item: Item): ShareLink {
  const read = itemReader(item);
  return {
    id: read.string('id'),
    tenantId: read.string('tenantId'),
    fileId: read.string('fileId'),
    tokenHash: read.string('tokenHash'),
    expiresAt: read.string('expiresAt'),
    maxDownloads: typeof item.maxDownloads === 'number' ? item.maxDownloads : null,
    downloads: read.number('downloads'),
    createdBy: read.string('createdBy'),
    createdAt: read.string('createdAt'),
    revokedAt: read.stringOrNull('revokedAt'),
    revokedReason: (read.stringOrNull('revokedReason') as ShareLink['revokedReason']) ?? null,
  };
}

/**
 * Share links in the one table. Opening a link is a GetItem on its token hash and one
 * conditional update that counts the download only while the link is active, so concurrent
 * downloads can never pass `maxDownloads`: DynamoDB serialises the updates of one item.
 */
export function createShareLinkRepository(ctx: TableContext): ShareLinkRepository {
  const { tableName } = ctx;
  return {
    async create(link) {
      const ttl = Math.ceil(Date.parse(link.expiresAt) / 1000) + KEEP_AFTER_EXPIRY_SECONDS;
      try {
        await transactWrite(ctx, [
          {
            Put: {
              TableName: tableName,
              Item: {
                ...linkKey(link.tenantId, link.tokenHash),
                GSI1PK: tableKeys.shareLinksByFilePk(link.tenantId, link.fileId),
                GSI1SK: link.id,
                entity: 'shareLink',
                id: link.id,
                tenantId: link.tenantId,
                fileId: link.fileId,
                tokenHash: link.tokenHash,
                expiresAt: link.expiresAt,
                // Absent means unlimited, so the download condition needs no type test.
                ...(link.maxDownloads === null ? {} : { maxDownloads: link.maxDownloads }),
                downloads: link.downloads,
                createdBy: link.createdBy,
                createdAt: link.createdAt,
                // revokedAt is written only by revoke: its absence is what the conditions test.
                [TTL_ATTRIBUTE]: ttl,
              },
              ConditionExpression: 'attribute_not_exists(PK)',
            },
          },
          {
            Put: {
              TableName: tableName,
              Item: {
                ...idKey(link.tenantId, link.id),
                entity: 'shareLinkId',
                tokenHash: link.tokenHash,
                fileId: link.fileId,
                [TTL_ATTRIBUTE]: ttl,
              },
              ConditionExpression: 'attribute_not_exists(PK)',
            },
          },
        ]);
      } catch (error) {
        if (cancellationReasons(error)?.some((r) => r.code === 'ConditionalCheckFailed'))
          throw new AlreadyExistsError(`Share link ${link.id} already exists.`, { cause: error });
        throw error;
      }
    },

    async getByTokenHash(tenantId, tokenHash) {
      const { Item } = await ctx.client.send(
        new GetCommand({ TableName: tableName, Key: linkKey(tenantId, tokenHash), ConsistentRead: true }),
      );
      return Item ? fromItem(Item) : null;
    },

    async getById(tenantId, linkId) {
      const { Item } = await ctx.client.send(
        new GetCommand({ TableName: tableName, Key: idKey(tenantId, linkId), ConsistentRead: true }),
      );
      if (!Item || typeof Item.tokenHash !== 'string') return null;
      return this.getByTokenHash(tenantId, Item.tokenHash);
    },

    async listForFile(tenantId, fileId, limit) {
      const links: ShareLink[] = [];
      let startKey: Record<string, unknown> | undefined;
      do {
        const answer = await ctx.client.send(
          new QueryCommand({
            TableName: tableName,
            IndexName: INDEX_NAMES.gsi1,
            KeyConditionExpression: 'GSI1PK = :pk',
            ExpressionAttributeValues: { ':pk': tableKeys.shareLinksByFilePk(tenantId, fileId) },
            ScanIndexForward: false,
            Limit: limit - links.length,
            ExclusiveStartKey: startKey,
          }),
        );
        links.push(...(answer.Items ?? []).map(fromItem));
        startKey = answer.LastEvaluatedKey;
      } while (startKey && links.length < limit);
      return links;
    },

    async countDownload(link, now) {
      try {
        const { Attributes } = await ctx.client.send(
          new UpdateCommand({
            TableName: tableName,
            Key: linkKey(link.tenantId, link.tokenHash),
            UpdateExpression: 'SET downloads = downloads + :one',
            ConditionExpression:
              'attribute_exists(PK) AND attribute_not_exists(revokedAt) AND expiresAt > :now AND ' +
              '(attribute_not_exists(maxDownloads) OR downloads < maxDownloads)',
            ExpressionAttributeValues: { ':one': 1, ':now': now },
            ReturnValues: 'ALL_NEW',
          }),
        );
        return Attributes ? fromItem(Attributes) : null;
      } catch (error) {
        if (isConditionalCheckFailed(error)) return null;
        throw error;
      }
    },

    revoke(link, at, reason) {
      return writeApplied(
        ctx.client.send(
          new UpdateCommand({
            TableName: tableName,
            Key: linkKey(link.tenantId, link.tokenHash),
            UpdateExpression: 'SET revokedAt = :at, revokedReason = :reason',
            ConditionExpression: 'attribute_exists(PK) AND attribute_not_exists(revokedAt)',
            ExpressionAttributeValues: { ':at': at, ':reason': reason },
          }),
        ),
      );
    },
  };
}
