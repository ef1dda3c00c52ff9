import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { tableKeys } from '../../domain/keys.js';
import type { PreviewEntry } from '../../domain/preview.js';
import type { PreviewRepository } from '../../ports/repositories.js';
import { backoff } from './backoff.js';
import { writeApplied } from './conditional-write.js';
import { fileItem } from './file-item.js';
import { previewItem } from './preview-item.js';
import { queryAll } from './query-all.js';
import { readPage } from './read-page.js';
import { cancellationReasons, conditionFailedAt } from './sdk-errors.js';
import type { TableContext } from './table-context.js';
import { INDEX_NAMES } from './table-definition.js';
import { type TransactItems, type TransactUpdate, transactWrite } from './transact-write.js';

/** A save retries when another writer replaced the entry between its read and its write. */
const SAVE_ATTEMPTS = 5;

/**
 * Preview entries and counters. An entry's write and the `objects`/`bytes` move it causes are
 * one transaction, conditional on the entry being the one read just before (`renderId`), so
 * concurrent renders of the same file count once; the file's `previewStatus` is set in the same
 * transaction, on condition that the file is still active, so a render that finishes after a
 * soft delete leaves nothing behind.
 */
export function createPreviewRepository(ctx: TableContext): PreviewRepository {
  const { tableName } = ctx;

  const read = async (tenantId: string, fileId: string, variant: string) => {
    const { Item } = await ctx.client.send(
      new GetCommand({
        TableName: tableName,
        Key: previewItem.key(tenantId, fileId, variant),
        ConsistentRead: true,
      }),
    );
    return Item ? previewItem.fromItem(Item) : null;
  };

  const statsUpdate = (tenantId: string, adds: Record<string, number>): TransactUpdate => {
    const names = Object.keys(adds);
    return {
      TableName: tableName,
      Key: previewItem.statsKey(tenantId),
      UpdateExpression: `SET ${previewItem.statsSetExpression} ADD ${names.map((n) => `${n} :${n}`).join(', ')}`,
      ExpressionAttributeValues: {
        ...previewItem.statsSetValues(tenantId),
        ...Object.fromEntries(names.map((n) => [`:${n}`, adds[n]])),
      },
    };
  };

  /** A single conditional write whose failed condition means "someone else got there": ignored. */
  const unlessChanged = writeApplied;

  const counted = (entry: PreviewEntry | null) =>
    entry?.status === 'ready' ? { objects: 1, bytes: entry.size } : { objects: 0, bytes: 0 };

  return {
    get: read,

    async listForFile(tenantId, fileId) {
      const items = await queryAll(ctx, {
        KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
        ExpressionAttributeValues: {
          ':pk': tableKeys.filePk(tenantId, fileId),
          ':prefix': tableKeys.previewSkPrefix,
        },
        ConsistentRead: true,
      });
      return items.map(previewItem.fromItem);
    },

    listByAccess(tenantId, page) {
      const pk = tableKeys.previewsByAccessPk(tenantId);
      return readPage(
        ctx,
        {
          fingerprint: JSON.stringify(['previews-by-access', tenantId]),
          keyAttributes: ['PK', 'SK', 'GSI1PK', 'GSI1SK'],
          fixed: { GSI1PK: pk },
          query: {
            IndexName: INDEX_NAMES.gsi1,
            KeyConditionExpression: 'GSI1PK = :pk',
            ExpressionAttributeValues: { ':pk': pk },
            ScanIndexForward: true,
          },
        },
        page,
        previewItem.fromItem,
      );
    },

    listCreatedBefore(tenantId, before, page) {
      const pk = tableKeys.previewSweepPk(tenantId);
      return readPage(
        ctx,
        {
          fingerprint: JSON.stringify(['previews-created-before', tenantId, before]),
          keyAttributes: ['PK', 'SK', 'GSI3PK', 'GSI3SK'],
          fixed: { GSI3PK: pk },
          query: {
            IndexName: INDEX_NAMES.gsi3,
            // GSI3SK is `{createdAt}#...`: anything created at `before` or later sorts after it.
            KeyConditionExpression: 'GSI3PK = :pk AND GSI3SK < :before',
            ExpressionAttributeValues: { ':pk': pk, ':before': before },
            ScanIndexForward: true,
          },
        },
        page,
        previewItem.fromItem,
      );
    },

    listTenants(page) {
      return readPage(
        ctx,
        {
          fingerprint: JSON.stringify(['preview-tenants']),
          keyAttributes: ['PK', 'SK', 'GSI3PK', 'GSI3SK'],
          scan: {
            IndexName: INDEX_NAMES.gsi3,
            FilterExpression: 'entity = :entity',
            ExpressionAttributeValues: { ':entity': 'previewstats' },
          },
        },
        page,
        (item) => item.tenantId as string,
      );
    },

    async save(entry, opts = {}) {
      for (let attempt = 1; ; attempt++) {
        const old = await read(entry.tenantId, entry.fileId, entry.variant);
        const now = counted(entry);
        const before = counted(old);
        const items: TransactItems = [
          {
            Put: {
              TableName: tableName,
              Item: previewItem.toItem(entry),
              ConditionExpression: old ? 'renderId = :old' : 'attribute_not_exists(PK)',
              ...(old ? { ExpressionAttributeValues: { ':old': old.renderId } } : {}),
            },
          },
          {
            Update: {
              TableName: tableName,
              Key: fileItem.key(entry.tenantId, entry.fileId),
              UpdateExpression: 'SET previewStatus = :preview, previewVariant = :variant',
              ConditionExpression: '#status = :active',
              ExpressionAttributeNames: { '#status': 'status' },
              ExpressionAttributeValues: {
                ':preview': entry.status,
                ':variant': entry.variant,
                ':active': 'active',
              },
            },
          },
          {
            Update: statsUpdate(entry.tenantId, {
              objects: now.objects - before.objects,
              bytes: now.bytes - before.bytes,
              ...(opts.renderMs === undefined
                ? {}
                : { renders: 1, totalRenderMs: Math.round(opts.renderMs) }),
            }),
          },
        ];
        try {
          await transactWrite(ctx, items);
          return true;
        } catch (error) {
          const reasons = cancellationReasons(error);
          if (reasons && conditionFailedAt(reasons, 1)) return false;
          if (!reasons || !conditionFailedAt(reasons, 0) || attempt >= SAVE_ATTEMPTS) throw error;
          await backoff(attempt);
        }
      }
    },

    async remove(entry) {
      const { objects, bytes } = counted(entry);
      const condition = {
        ConditionExpression: 'renderId = :renderId',
        ExpressionAttributeValues: { ':renderId': entry.renderId },
      };
      const key = previewItem.key(entry.tenantId, entry.fileId, entry.variant);
      try {
        await transactWrite(ctx, [
          { Delete: { TableName: tableName, Key: key, ...condition } },
          { Update: statsUpdate(entry.tenantId, { objects: -objects, bytes: -bytes }) },
        ]);
      } catch (error) {
        const reasons = cancellationReasons(error);
        if (reasons && conditionFailedAt(reasons, 0)) return false;
        throw error;
      }
      // The file (if it still exists) shows no preview any more when this was its current variant.
      await unlessChanged(
        ctx.client.send(
          new UpdateCommand({
            TableName: tableName,
            Key: fileItem.key(entry.tenantId, entry.fileId),
            UpdateExpression: 'REMOVE previewStatus, previewVariant',
            ConditionExpression: 'previewVariant = :variant',
            ExpressionAttributeValues: { ':variant': entry.variant },
          }),
        ),
      );
      return true;
    },

    async touch(entry, at) {
      const keys = previewItem.accessKeys(entry, at);
      // Conditional, so touching an entry removed meanwhile cannot create a stub item.
      await unlessChanged(
        ctx.client.send(
          new UpdateCommand({
            TableName: tableName,
            Key: previewItem.key(entry.tenantId, entry.fileId, entry.variant),
            UpdateExpression: 'SET lastAccessAt = :at, GSI1SK = :sk',
            ConditionExpression: 'renderId = :renderId',
            ExpressionAttributeValues: { ':at': at, ':sk': keys.GSI1SK, ':renderId': entry.renderId },
          }),
        ),
      );
    },

    async markFile(tenantId, fileId, variant, status) {
      const change =
        status === null
          ? {
              UpdateExpression: 'REMOVE previewStatus, previewVariant',
              ConditionExpression: 'previewStatus = :pending AND previewVariant = :variant',
              ExpressionAttributeValues: { ':pending': 'pending', ':variant': variant },
            }
          : {
              UpdateExpression: 'SET previewStatus = :preview, previewVariant = :variant',
              ConditionExpression: '#status = :active',
              ExpressionAttributeNames: { '#status': 'status' },
              ExpressionAttributeValues: { ':preview': status, ':variant': variant, ':active': 'active' },
            };
      await unlessChanged(
        ctx.client.send(
          new UpdateCommand({ TableName: tableName, Key: fileItem.key(tenantId, fileId), ...change }),
        ),
      );
    },

    async counters(tenantId) {
      const { Item } = await ctx.client.send(
        new GetCommand({ TableName: tableName, Key: previewItem.statsKey(tenantId), ConsistentRead: true }),
      );
      return previewItem.countersFrom(Item);
    },

    async count(tenantId, deltas) {
      const adds = Object.fromEntries(Object.entries(deltas).filter(([, n]) => n !== undefined && n !== 0));
      if (Object.keys(adds).length === 0) return;
      await ctx.client.send(new UpdateCommand(statsUpdate(tenantId, adds as Record<string, number>)));
    },
  };
}
