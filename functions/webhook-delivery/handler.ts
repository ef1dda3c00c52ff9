import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { isId } from '../../shared/domain/ids.js';
import type { DeliveryMessage } from '../../shared/domain/webhook.js';
import type { Logger } from '../../shared/ports/logger.js';
import type { MessageVisibility } from '../../shared/ports/webhook-transport.js';
import type { WebhookDelivery } from '../../shared/services/webhook-delivery.js';
import { composeFromEnv } from '../lib/compose.js';
import { awsWebhookTransport, composeWebhookDelivery } from '../lib/compose-webhooks.js';
import { lazy } from '../lib/lazy.js';

/**
 * Webhook deliveries from the delivery queue, one attempt per message, side by side. A message
 * to retry stays in the queue, hidden until its next attempt (ChangeMessageVisibility, then a
 * partial batch response); delivered, dead-lettered or pointless ones are done.
 */
export function makeWebhookDeliveryHandler(deps: {
  delivery: Pick<WebhookDelivery, 'attempt'>;
  visibility: MessageVisibility;
  logger: Logger;
}) {
  const handle = async (record: SQSEvent['Records'][number]): Promise<boolean> => {
    const outcome = await deps.delivery.attempt(parseDeliveryMessage(record.body));
    if (outcome.kind !== 'retry') return true;
    await deps.visibility.delay(record.receiptHandle, outcome.delayMs);
    return false;
  };
  return async (event: SQSEvent): Promise<SQSBatchResponse> => {
    const outcomes = await Promise.allSettled(event.Records.map(handle));
    const failures: SQSBatchResponse['batchItemFailures'] = [];
    outcomes.forEach((outcome, i) => {
      if (outcome.status === 'fulfilled' && outcome.value) return;
      const { messageId } = event.Records[i] as SQSEvent['Records'][number];
      if (outcome.status === 'rejected')
        deps.logger.error('webhook delivery failed', { messageId, error: String(outcome.reason) });
      failures.push({ itemIdentifier: messageId });
    });
    return { batchItemFailures: failures };
  };
}

export function parseDeliveryMessage(body: string): DeliveryMessage {
  const m = JSON.parse(body) as Partial<DeliveryMessage>;
  if (
    !isId(m.tenantId) ||
    !isId(m.webhookId) ||
    !isId(m.eventId) ||
    typeof m.type !== 'string' ||
    typeof m.body !== 'string'
  )
    throw new Error('A delivery message needs { tenantId, webhookId, eventId, type, body }.');
  return m as DeliveryMessage;
}

export const handler = lazy(() => {
  const app = composeFromEnv(process.env);
  const transport = awsWebhookTransport(app.config);
  return makeWebhookDeliveryHandler({
    delivery: composeWebhookDelivery(app, transport.queue),
    visibility: transport.queue,
    logger: app.logger,
  });
});
