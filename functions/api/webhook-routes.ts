import * as z from 'zod';
import { WEBHOOK_LIMITS, type Webhook, type WebhookDelivery } from '../../shared/domain/webhook.js';
import { errorAnswer, json, noContent, type Route, route } from './route.js';
import { Id, PageQuery } from './schemas.js';

/** API.md 13.5: the four webhook routes, admin only. Kept beside routes.ts, which lists them. */

const Timestamp = z.string().meta({ format: 'date-time' });
export const CreateWebhookBody = z
  .strictObject({
    url: z
      .url({ protocol: /^https?$/ })
      .max(WEBHOOK_LIMITS.maxUrlLength)
      .meta({
        description:
          'https on public addresses only (API.md 13.7), unless FILESTORE_ALLOWED_ENDPOINTS lists its origin',
      }),
    events: z
      .array(z.string().min(1).max(64))
      .min(1)
      .max(WEBHOOK_LIMITS.maxEvents)
      .meta({ description: 'event types (file.activated, file.rejected, ...), or "*" for all' }),
  })
  .meta({ id: 'CreateWebhookRequest' });
const webhookFields = { id: Id, url: z.string(), events: z.array(z.string()), createdAt: Timestamp };
export const WebhookView = z.object(webhookFields).meta({ id: 'Webhook' });
export const CreatedWebhookView = z
  .object({ ...webhookFields, secret: z.string().meta({ description: 'shown only in this answer' }) })
  .meta({ id: 'CreatedWebhook' });
export const DeliveryView = z
  .object({
    eventId: Id,
    type: z.string(),
    at: Timestamp,
    status: z.enum(['pending', 'delivered', 'failed', 'dead']),
    attempts: z.int().min(0),
    lastError: z.string().nullable(),
  })
  .meta({ id: 'WebhookDelivery' });
const WebhookIdParams = z.strictObject({ id: Id });
const listOf = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), nextCursor: z.string().nullable() });

export const webhookView = (w: Webhook) => ({
  id: w.id,
  url: w.url,
  events: [...w.events],
  createdAt: w.createdAt,
});
const deliveryView = (d: WebhookDelivery) => ({
  eventId: d.eventId,
  type: d.type,
  at: d.at,
  status: d.status,
  attempts: d.attempts,
  lastError: d.lastError,
});

const err = errorAnswer;
const common = {
  400: err('Malformed input, or a URL API.md 13.7 refuses (VALIDATION_FAILED)'),
  401: err('Missing or invalid token (UNAUTHENTICATED)'),
  403: err('Not an admin (FORBIDDEN)'),
};
const with404 = { ...common, 404: err('No such webhook in the caller tenant (NOT_FOUND)') };

export const webhookRoutes: Route[] = [
  route({
    method: 'POST',
    path: '/v1/webhooks',
    operationId: 'createWebhook',
    summary: 'Deliver the tenant events of the given types to a URL, signed with a new secret',
    role: 'admin',
    body: CreateWebhookBody,
    responses: {
      201: { description: 'Created; the only answer that holds the secret', schema: CreatedWebhookView },
      ...common,
      409: err('The tenant has the most webhooks it may have'),
    },
    handle: async ({ actor, body }, svc) => {
      const { webhook, secret } = await svc.webhooks.create(actor, body);
      return json(201, { ...webhookView(webhook), secret });
    },
  }),
  route({
    method: 'GET',
    path: '/v1/webhooks',
    operationId: 'listWebhooks',
    summary: 'The tenant webhooks, oldest first (without their secrets)',
    role: 'admin',
    responses: { 200: { description: 'OK', schema: listOf(WebhookView) }, ...common },
    handle: async ({ actor }, svc) =>
      json(200, { items: (await svc.webhooks.list(actor)).map(webhookView), nextCursor: null }),
  }),
  route({
    method: 'DELETE',
    path: '/v1/webhooks/{id}',
    operationId: 'deleteWebhook',
    summary: 'Delete a webhook: nothing more is delivered to it',
    role: 'admin',
    params: WebhookIdParams,
    responses: { 204: { description: 'Deleted' }, ...with404 },
    handle: async ({ actor, params }, svc) => {
      await svc.webhooks.delete(actor, params.id);
      return noContent();
    },
  }),
  route({
    method: 'GET',
    path: '/v1/webhooks/{id}/deliveries',
    operationId: 'listWebhookDeliveries',
    summary: 'The recent deliveries of a webhook, newest event first, with attempts and the last error',
    role: 'admin',
    params: WebhookIdParams,
    query: PageQuery,
    responses: { 200: { description: 'OK', schema: listOf(DeliveryView) }, ...with404 },
    handle: async ({ actor, params, query }, svc) => {
      const page = await svc.webhooks.deliveries(actor, params.id, {
        limit: query.limit ?? 50,
        cursor: query.cursor,
      });
      return json(200, { items: page.items.map(deliveryView), nextCursor: page.nextCursor });
    },
  }),
];
