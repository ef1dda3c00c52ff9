import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { DEFAULT_PROVIDER_ID } from '../../domain/ids.js';
import { tableKeys } from '../../domain/keys.js';
import type { Bucket } from '../../domain/model.js';
import {
  AlreadyExistsError,
  type BucketRepository,
  InUseError,
  NameTakenError,
  NotFoundError,
} from '../../ports/repositories.js';
import { bucketCounter } from './bucket-counter.js';
import { itemReader } from './item-reader.js';
import { queryAll } from './query-all.js';
import { readPage } from './read-page.js';
import { cancellationReasons, conditionFailedAt, isConditionalCheckFailed } from './sdk-errors.js';
import type { Item, TableContext } from './table-context.js';
import { type TransactItems, type TransactUpdate, transactWrite } from './transact-write.js';

const DELETE_ATTEMPTS = 3;

/**
 * A bucket is two items in the tenant's partition: the bucket, and a claim on its lower-cased
 * NFC name, written and moved in the same transactions, so two buckets can never hold names
 * that differ only in case. Buckets on a tenant's own provider move its `bucketCount`. The
 * bucket item also counts its live files (`bucket-counter.ts`), which only file transitions move.
 */
export function createBucketRepository(ctx: TableContext): BucketRepository {
  const { tableName } = ctx;
  const bucketKey = (tenantId: string, bucketId: string) => ({
    PK: tableKeys.tenantPk(tenantId),
    SK: tableKeys.bucketSk(bucketId),
  });
  const claimKey = (tenantId: string, name: string) => ({
    PK: tableKeys.tenantPk(tenantId),
    SK: tableKeys.bucketNameSk(name),
  });
  const providerCount = (tenantId: string, providerId: string, delta: 1 | -1): TransactItems[number] => ({
    Update: {
      TableName: tableName,
      Key: { PK: tableKeys.tenantPk(tenantId), SK: tableKeys.providerSk(providerId) },
      UpdateExpression: 'ADD bucketCount :delta',
      // Without the condition, ADD would conjure a provider item out of nothing.
      ConditionExpression: 'attribute_exists(PK)',
      ExpressionAttributeValues: { ':delta': delta },
    },
  });
  /** Frees a name claim, but never one that another bucket holds. */
  const releaseClaim = (tenantId: string, bucket: Bucket): TransactItems[number] => ({
    Delete: {
      TableName: tableName,
      Key: claimKey(tenantId, bucket.name),
      ConditionExpression: 'attribute_not_exists(PK) OR bucketId = :id',
      ExpressionAttributeValues: { ':id': bucket.id },
    },
  });
  const takeClaim = (tenantId: string, bucket: Bucket): TransactItems[number] => ({
    Put: {
      TableName: tableName,
      Item: { ...claimKey(tenantId, bucket.name), entity: 'bucketName', bucketId: bucket.id },
      ConditionExpression: 'attribute_not_exists(PK)',
    },
  });
  const read = async (tenantId: string, bucketId: string) => {
    const { Item } = await ctx.client.send(
      new GetCommand({ TableName: tableName, Key: bucketKey(tenantId, bucketId), ConsistentRead: true }),
    );
    return Item ? fromItem(Item) : null;
  };

  return {
    async create(tenantId, bucket) {
      const usesOwnProvider = bucket.providerId !== DEFAULT_PROVIDER_ID;
      const items: TransactItems = [
        {
          Put: {
            TableName: tableName,
            Item: { ...bucketKey(tenantId, bucket.id), ...toAttributes(bucket), liveFiles: 0 },
            ConditionExpression: 'attribute_not_exists(PK)',
          },
        },
        takeClaim(tenantId, bucket),
        ...(usesOwnProvider ? [providerCount(tenantId, bucket.providerId, 1)] : []),
      ];
      try {
        await transactWrite(ctx, items);
      } catch (error) {
        const reasons = cancellationReasons(error);
        if (!reasons) throw error;
        if (conditionFailedAt(reasons, 2)) {
          throw new NotFoundError(`Provider ${bucket.providerId} was not found.`, { cause: error });
        }
        if (conditionFailedAt(reasons, 1)) {
          throw new NameTakenError(`A bucket named ${bucket.name} already exists.`, { cause: error });
        }
        if (conditionFailedAt(reasons, 0)) {
          throw new AlreadyExistsError(`Bucket ${bucket.id} already exists.`, { cause: error });
        }
        throw error;
      }
    },

    get: read,

    list(tenantId, page) {
      const pk = tableKeys.tenantPk(tenantId);
      return readPage(
        ctx,
        {
          fingerprint: JSON.stringify(['buckets', tenantId]),
          keyAttributes: ['PK', 'SK'],
          fixed: { PK: pk },
          query: {
            // `BUCKET#` does not match the `BUCKETNAME#` claims: the next character differs.
            KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
            ExpressionAttributeValues: { ':pk': pk, ':prefix': tableKeys.bucketSkPrefix },
          },
        },
        page,
        fromItem,
      );
    },

    async update(tenantId, before, after) {
      if (before.id !== after.id || before.providerId !== after.providerId) {
        throw new Error('A bucket keeps its id and provider; update cannot change them.');
      }
      // Conditioned on the name read before, so two concurrent renames cannot leave a stray claim.
      // An update, not a put, so the live-file count the bucket item carries stays as it is.
      const attributes = Object.entries(toAttributes(after));
      const putBucket: TransactUpdate = {
        TableName: tableName,
        Key: bucketKey(tenantId, after.id),
        UpdateExpression: `SET ${attributes.map((_, i) => `#a${i} = :a${i}`).join(', ')}`,
        ConditionExpression: 'attribute_exists(PK) AND #name = :before',
        ExpressionAttributeNames: {
          '#name': 'name',
          ...Object.fromEntries(attributes.map(([name], i) => [`#a${i}`, name])),
        },
        ExpressionAttributeValues: {
          ':before': before.name,
          ...Object.fromEntries(attributes.map(([, value], i) => [`:a${i}`, value])),
        },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      };
      const bucketGone = () => new NotFoundError(`Bucket ${before.id} was not found.`);
      const changedMeanwhile = () =>
        new Error(`Bucket ${before.id} was renamed concurrently; reload and retry.`);

      if (tableKeys.bucketNameSk(before.name) === tableKeys.bucketNameSk(after.name)) {
        try {
          await ctx.client.send(new UpdateCommand(putBucket));
        } catch (error) {
          if (!isConditionalCheckFailed(error)) throw error;
          throw error.Item ? changedMeanwhile() : bucketGone();
        }
        return;
      }
      try {
        await transactWrite(ctx, [
          { Update: putBucket },
          releaseClaim(tenantId, before),
          takeClaim(tenantId, after),
        ]);
      } catch (error) {
        const reasons = cancellationReasons(error);
        if (!reasons) throw error;
        if (conditionFailedAt(reasons, 0)) throw reasons[0]?.item ? changedMeanwhile() : bucketGone();
        if (conditionFailedAt(reasons, 2)) {
          throw new NameTakenError(`A bucket named ${after.name} already exists.`, { cause: error });
        }
        throw error;
      }
    },

    async delete(tenantId, bucket) {
      let current: Bucket | null = bucket;
      for (let attempt = 1; current; attempt++) {
        const items: TransactItems = [
          {
            Delete: {
              TableName: tableName,
              Key: bucketKey(tenantId, current.id),
              // The claim to free is the one of the name it has now; no file may be counted in it.
              ConditionExpression: `attribute_exists(PK) AND #name = :name AND (${bucketCounter.emptyCondition})`,
              ExpressionAttributeNames: { '#name': 'name' },
              ExpressionAttributeValues: { ':name': current.name, ...bucketCounter.emptyValues },
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            },
          },
          releaseClaim(tenantId, current),
          ...(current.providerId === DEFAULT_PROVIDER_ID
            ? []
            : [providerCount(tenantId, current.providerId, -1)]),
        ];
        try {
          await transactWrite(ctx, items);
          return true;
        } catch (error) {
          const reasons = cancellationReasons(error);
          if (!reasons || !conditionFailedAt(reasons, 0)) throw error;
          const old = reasons[0]?.item;
          if (!old) return false;
          if (Number(old.liveFiles?.N ?? 0) > 0)
            throw new InUseError(`Bucket ${bucket.id} still holds files.`, { cause: error });
          if (attempt >= DELETE_ATTEMPTS) throw error;
          current = await read(tenantId, bucket.id);
        }
      }
      return false;
    },

    async liveFileCounts(tenantId) {
      const items = await queryAll(ctx, {
        KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
        ExpressionAttributeValues: {
          ':pk': tableKeys.tenantPk(tenantId),
          ':prefix': tableKeys.bucketSkPrefix,
        },
        ProjectionExpression: 'id, liveFiles',
        ConsistentRead: true,
      });
      return new Map(
        items.map((item) => [item.id as string, typeof item.liveFiles === 'number' ? item.liveFiles : null]),
      );
    },

    async setLiveFileCount(tenantId, bucketId, seen, actual) {
      try {
        await ctx.client.send(
          new UpdateCommand({
            TableName: tableName,
            Key: bucketKey(tenantId, bucketId),
            UpdateExpression: 'SET liveFiles = :actual',
            ConditionExpression:
              seen === null
                ? 'attribute_exists(PK) AND attribute_not_exists(liveFiles)'
                : 'attribute_exists(PK) AND liveFiles = :seen',
            ExpressionAttributeValues: { ':actual': actual, ...(seen === null ? {} : { ':seen': seen }) },
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

function toAttributes(bucket: Bucket) {
  return {
    entity: 'bucket',
    id: bucket.id,
    name: bucket.name,
    providerId: bucket.providerId,
    path: bucket.path,
    allowedMimeTypes: bucket.allowedMimeTypes,
    maxFileSize: bucket.maxFileSize,
    retentionDays: bucket.retentionDays,
    restricted: bucket.restricted,
    deleteUnreferenced: bucket.deleteUnreferenced,
    malwareScan: bucket.malwareScan ?? 'off',
    createdAt: bucket.createdAt,
    updatedAt: bucket.updatedAt,
  };
}

function fromItem(item: Item): Bucket {
  const read = itemReader(item);
  const allowed = item.allowedMimeTypes;
  if (allowed !== null && !(Array.isArray(allowed) && allowed.every((type) => typeof type === 'string'))) {
    throw new TypeError(`Bucket ${read.string('id')}: allowedMimeTypes is not a list of strings.`);
  }
  return {
    id: read.string('id'),
    name: read.string('name'),
    providerId: read.string('providerId'),
    path: read.string('path'),
    allowedMimeTypes: allowed === null ? null : [...allowed],
    maxFileSize: read.number('maxFileSize'),
    retentionDays: read.number('retentionDays'),
    restricted: read.boolean('restricted'),
    deleteUnreferenced: read.boolean('deleteUnreferenced'),
    // Absent is `off`, as on buckets written before malware scanning existed.
    ...(item.malwareScan === 'required' ? { malwareScan: 'required' as const } : {}),
    createdAt: read.string('createdAt'),
    updatedAt: read.string('updatedAt'),
  };
}
