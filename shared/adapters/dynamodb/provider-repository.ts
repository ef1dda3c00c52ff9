import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { tableKeys } from '../../domain/keys.js';
import type { Provider, S3ProviderConfig } from '../../domain/model.js';
import { AlreadyExistsError, InUseError, type ProviderRepository } from '../../ports/repositories.js';
import { itemReader } from './item-reader.js';
import { readPage } from './read-page.js';
import { isConditionalCheckFailed } from './sdk-errors.js';
import type { Item, TableContext } from './table-context.js';

/**
 * Providers live in the tenant's partition. Each carries `bucketCount`, moved by the bucket
 * transactions, so "no bucket uses it" is a condition on the delete rather than a query that
 * a concurrent bucket creation could slip past. The built-in `default` provider has no item.
 */
export function createProviderRepository(ctx: TableContext): ProviderRepository {
  const key = (tenantId: string, providerId: string) => ({
    PK: tableKeys.tenantPk(tenantId),
    SK: tableKeys.providerSk(providerId),
  });

  return {
    async create(tenantId, provider) {
      try {
        await ctx.client.send(
          new PutCommand({
            TableName: ctx.tableName,
            Item: {
              ...key(tenantId, provider.id),
              ...toAttributes(provider),
              entity: 'provider',
              bucketCount: 0,
            },
            ConditionExpression: 'attribute_not_exists(PK)',
          }),
        );
      } catch (error) {
        if (isConditionalCheckFailed(error)) {
          throw new AlreadyExistsError(`Provider ${provider.id} already exists.`, { cause: error });
        }
        throw error;
      }
    },

    async get(tenantId, providerId) {
      const { Item } = await ctx.client.send(
        new GetCommand({ TableName: ctx.tableName, Key: key(tenantId, providerId), ConsistentRead: true }),
      );
      return Item ? fromItem(Item) : null;
    },

    list(tenantId, page) {
      const pk = tableKeys.tenantPk(tenantId);
      return readPage(
        ctx,
        {
          fingerprint: JSON.stringify(['providers', tenantId]),
          keyAttributes: ['PK', 'SK'],
          fixed: { PK: pk },
          query: {
            KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
            ExpressionAttributeValues: { ':pk': pk, ':prefix': tableKeys.providerSkPrefix },
          },
        },
        page,
        fromItem,
      );
    },

    async delete(tenantId, providerId) {
      try {
        await ctx.client.send(
          new DeleteCommand({
            TableName: ctx.tableName,
            Key: key(tenantId, providerId),
            ConditionExpression:
              'attribute_exists(PK) AND (attribute_not_exists(bucketCount) OR bucketCount = :zero)',
            ExpressionAttributeValues: { ':zero': 0 },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
        return true;
      } catch (error) {
        if (!isConditionalCheckFailed(error)) throw error;
        // The old item comes back only when it existed, i.e. when the bucket count stopped us.
        if (!error.Item) return false;
        throw new InUseError(
          `Provider ${providerId} is still used by ${error.Item.bucketCount?.N ?? 'some'} bucket(s).`,
          {
            cause: error,
          },
        );
      }
    },
  };
}

function toAttributes(provider: Provider) {
  const { bucket, region, endpoint, forcePathStyle } = provider.config;
  // Optional fields are left out rather than written as undefined, which the client refuses.
  const config = {
    bucket,
    region,
    ...(endpoint === undefined ? {} : { endpoint }),
    ...(forcePathStyle === undefined ? {} : { forcePathStyle }),
  };
  return {
    id: provider.id,
    type: provider.type,
    name: provider.name,
    config,
    hasCredentials: provider.hasCredentials,
    createdAt: provider.createdAt,
    updatedAt: provider.updatedAt,
  };
}

function fromItem(item: Item): Provider {
  const read = itemReader(item);
  const configReader = itemReader(read.map('config'));
  const config: S3ProviderConfig = {
    bucket: configReader.string('bucket'),
    region: configReader.string('region'),
  };
  if (!configReader.isNull('endpoint')) config.endpoint = configReader.string('endpoint');
  if (!configReader.isNull('forcePathStyle')) config.forcePathStyle = configReader.boolean('forcePathStyle');
  const type = read.string('type');
  if (type !== 's3') throw new TypeError(`Provider ${read.string('id')} has unknown type ${type}.`);
  return {
    id: read.string('id'),
    type,
    name: read.string('name'),
    config,
    hasCredentials: read.boolean('hasCredentials'),
    createdAt: read.string('createdAt'),
    updatedAt: read.string('updatedAt'),
  };
}
