import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { tableKeys } from '../../domain/keys.js';
import type { DeliveryStatus, Webhook, WebhookDelivery } from '../../domain/webhook.js';
import type { WebhookRepository } from '../../ports/repositories.js';
import { itemReader } from './item-reader.js';
import { queryAll } from './query-all.js';
import { readPage } from './read-page.js';
import { isConditionalCheckFailed } from './sdk-errors.js';
import type { Item, TableContext } from './table-context.js';
import { TTL_ATTRIBUTE } from './table-definition.js';

/** Deliveries are kept this long after their last change, then DynamoDB's TTL may remove them. */
const DELIVERY_RETENTION_SECONDS = 30 * 24 * 3600;
const STATUSES: readonly DeliveryStatus[] = ['pending', 'delivered', 'failed', 'dead'];
export const DELIVERY_ENTITY = 'webhookDelivery';

const webhookKey = (tenantId: string, webhookId: string) => ({
  PK: tableKeys.tenantPk(tenantId),
  SK: tableKeys.webhookSk(webhookId),
});
const deliveryKey = (tenantId: string, webhookId: string, eventId: string) => ({
  PK: tableKeys.deliveryPk(tenantId, webhookId),
  SK: tableKeys.deliverySk(eventId),
});

/** Webhooks with the tenant's other settings in `T#{t}`; deliveries in one partition per webhook. */
export function createWebhookRepository(ctx: TableContext): WebhookRepository {
  const { tableName } = ctx;
  // The body rides along, so the item alone can be delivered again (unsettled-deliveries.ts).
  const deliveryItem = (tenantId: string, d: WebhookDelivery, body: string) => ({
    ...deliveryKey(tenantId, d.webhookId, d.eventId),
    entity: DELIVERY_ENTITY,
    webhookId: d.webhookId,
    eventId: d.eventId,
    type: d.type,
    at: d.at,
    status: d.status,
    attempts: d.attempts,
    lastError: d.lastError,
    firstAttemptAt: d.firstAttemptAt,
    [TTL_ATTRIBUTE]: Math.floor(Date.parse(d.at) / 1000) + DELIVERY_RETENTION_SECONDS,
    body,
  });
  return {
    async create(webhook) {
      await ctx.client.send(
        new PutCommand({
          TableName: tableName,
          Item: {
            ...webhookKey(webhook.tenantId, webhook.id),
            entity: 'webhook',
            id: webhook.id,
            tenantId: webhook.tenantId,
            url: webhook.url,
            events: webhook.events,
            createdAt: webhook.createdAt,
          },
          ConditionExpression: 'attribute_not_exists(PK)',
        }),
      );
    },

    async get(tenantId, webhookId) {
      const { Item } = await ctx.client.send(
        new GetCommand({ TableName: tableName, Key: webhookKey(tenantId, webhookId), ConsistentRead: true }),
      );
      return Item ? webhookFromItem(Item) : null;
    },

    async listAll(tenantId) {
      const items = await queryAll(ctx, {
        KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
        ExpressionAttributeValues: {
          ':pk': tableKeys.tenantPk(tenantId),
          ':prefix': tableKeys.webhookSkPrefix,
        },
        ConsistentRead: true,
      });
      return items.map(webhookFromItem);
    },

    async delete(tenantId, webhookId) {
      try {
        await ctx.client.send(
          new DeleteCommand({
            TableName: tableName,
            Key: webhookKey(tenantId, webhookId),
            ConditionExpression: 'attribute_exists(PK)',
          }),
        );
        return true;
      } catch (error) {
        if (isConditionalCheckFailed(error)) return false;
        throw error;
      }
    },

    async createDelivery(tenantId, delivery, body) {
      try {
        await ctx.client.send(
          new PutCommand({
            TableName: tableName,
            Item: deliveryItem(tenantId, delivery, body),
            ConditionExpression: 'attribute_not_exists(PK)',
          }),
        );
      } catch (error) {
        if (!isConditionalCheckFailed(error)) throw error;
      }
    },

    async getDelivery(tenantId, webhookId, eventId) {
      const { Item } = await ctx.client.send(
        new GetCommand({
          TableName: tableName,
          Key: deliveryKey(tenantId, webhookId, eventId),
          ConsistentRead: true,
        }),
      );
      return Item ? deliveryFromItem(Item) : null;
    },

    async putDelivery(tenantId, delivery, body) {
      // A put (the delivery function may only get and put items), so the body is written again.
      await ctx.client.send(
        new PutCommand({ TableName: tableName, Item: deliveryItem(tenantId, delivery, body) }),
      );
    },

    listDeliveries(tenantId, webhookId, page) {
      const pk = tableKeys.deliveryPk(tenantId, webhookId);
      return readPage(
        ctx,
        {
          fingerprint: JSON.stringify(['deliveries', tenantId, webhookId]),
          keyAttributes: ['PK', 'SK'],
          fixed: { PK: pk },
          query: {
            KeyConditionExpression: 'PK = :pk',
            ExpressionAttributeValues: { ':pk': pk },
            ScanIndexForward: false,
          },
        },
        page,
        deliveryFromItem,
      );
    },
  };
}

function webhookFromItem(item: Item): Webhook {
  const read = itemReader(item);
  const events = item.events;
  if (!Array.isArray(events) || !events.every((e) => typeof e === 'string')) {
    throw new TypeError(`Webhook ${read.string('id')} has no event list.`);
  }
  return {
    id: read.string('id'),
    tenantId: read.string('tenantId'),
    url: read.string('url'),
    events: events as string[],
    createdAt: read.string('createdAt'),
  };
}

function deliveryFromItem(item: Item): WebhookDelivery {
  const read = itemReader(item);
  const status = read.string('status') as DeliveryStatus;
  if (!STATUSES.includes(status))
    throw new TypeError(`Delivery ${read.string('eventId')} has status ${status}.`);
  return {
    webhookId: read.string('webhookId'),
    eventId: read.string('eventId'),
    type: read.string('type'),
    at: read.string('at'),
    status,
    attempts: read.number('attempts'),
    lastError: read.stringOrNull('lastError'),
    firstAttemptAt: read.stringOrNull('firstAttemptAt'),
  };
}
