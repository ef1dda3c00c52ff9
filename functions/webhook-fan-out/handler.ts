import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { parseEventPk } from '../../shared/domain/keys.js';
import type { AuditEvent } from '../../shared/domain/model.js';
import type { Logger } from '../../shared/ports/logger.js';
import type { WebhookFanOut } from '../../shared/services/webhook-fan-out.js';
import { composeFromEnv } from '../lib/compose.js';
import { awsWebhookTransport, composeWebhookFanOut } from '../lib/compose-webhooks.js';
import { lazy } from '../lib/lazy.js';

/**
 * The table's stream, filtered to new audit event items (infra: the event source's filter):
 * each goes to the event bus and to the delivery queue once per webhook that wants it. A
 * record that fails is reported (partial batch response) and the stream retries from it, so
 * an event recorded is fanned out even if a function dies in between.
 */
export function makeWebhookFanOutHandler(deps: { fanOut: Pick<WebhookFanOut, 'fanOut'>; logger: Logger }) {
  return async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
    // In order: the stream resumes from the first failure, so later records wait for it.
    for (const record of event.Records) {
      const recorded = auditEventOf(record.dynamodb?.NewImage as Record<string, AttributeValue> | undefined);
      if (record.eventName !== 'INSERT' || !recorded) continue;
      try {
        await deps.fanOut.fanOut(recorded.tenantId, recorded.event);
      } catch (error) {
        deps.logger.error('webhook fan-out failed', { eventId: recorded.event.id, error: String(error) });
        return { batchItemFailures: [{ itemIdentifier: record.dynamodb?.SequenceNumber ?? '' }] };
      }
    }
    return { batchItemFailures: [] };
  };
}

/** An audit event item of the table (event-repository.ts) back as tenant and event; else null. */
export function auditEventOf(image: Record<string, AttributeValue> | undefined) {
  if (!image) return null;
  const item = unmarshall(image);
  const tenantId = typeof item.PK === 'string' ? parseEventPk(item.PK) : null;
  if (item.entity !== 'event' || tenantId === null) return null;
  const event: AuditEvent = {
    id: String(item.id),
    type: String(item.type),
    at: String(item.at),
    actor: String(item.actor),
    fileId: typeof item.fileId === 'string' ? item.fileId : null,
    providerId: typeof item.providerId === 'string' ? item.providerId : null,
    status: item.status === 'error' ? 'error' : 'ok',
    latencyMs: typeof item.latencyMs === 'number' ? item.latencyMs : null,
    details: typeof item.details === 'object' && item.details !== null ? item.details : {},
  };
  return { tenantId, event };
}

export const handler = lazy(() => {
  const app = composeFromEnv(process.env);
  const transport = awsWebhookTransport(app.config);
  return makeWebhookFanOutHandler({ fanOut: composeWebhookFanOut(app, transport), logger: app.logger });
});
