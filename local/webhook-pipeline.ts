import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { App } from '../functions/lib/compose.js';
import { composeWebhookDelivery, composeWebhookFanOut } from '../functions/lib/compose-webhooks.js';
import { makeWebhookDeliveryHandler } from '../functions/webhook-delivery/handler.js';
import type { AuditEvent } from '../shared/domain/model.js';
import type { DeliveryMessage } from '../shared/domain/webhook.js';
import type { Logger } from '../shared/ports/logger.js';
import type { WebhookQueue } from '../shared/ports/webhook-transport.js';
import type { WebhookFanOut } from '../shared/services/webhook-fan-out.js';
import { createStorageEventQueue } from './storage-event-queue.js';

/**
 * Webhooks on one machine (API.md 13.5): the same fan-out and delivery code as in AWS, on two
 * instances of the local queue. Recorded events → the fan-out queue (AWS: the table's stream)
 * → one message per webhook on the delivery queue (AWS: SQS) → the delivery handler, whose
 * retries wait out the schedule as the message's visibility timeout. Nothing runs in the
 * request that recorded the event. No event bus here; dead letters are logged and kept in memory.
 */
export function createLocalWebhookPipeline(opts: { logger: Logger }) {
  const { logger } = opts;
  let fanOut: WebhookFanOut | null = null;
  let deliver: ((event: SQSEvent) => Promise<SQSBatchResponse>) | null = null;
  const deadLetters: DeliveryMessage[] = [];

  const deliveries = createStorageEventQueue({
    queueName: 'stowage-webhook-deliveries',
    // The delivery service decides when a delivery is dead (the schedule's span); this only
    // catches a message that fails on its own (unparseable), as the queue's redrive does in AWS.
    maxReceiveCount: 1000,
    consumer: (event) => (deliver ? deliver(event) : failAll(event)),
    onDeadLetter: (record) => logger.error('webhook message dead-lettered', { messageId: record.messageId }),
  });
  const queue: WebhookQueue = {
    async send(messages) {
      for (const message of messages) deliveries.send(JSON.stringify(message));
    },
    async deadLetter(message) {
      deadLetters.push(message);
    },
  };
  const events = createStorageEventQueue({
    queueName: 'stowage-webhook-events',
    maxReceiveCount: 10,
    consumer: async (event) => {
      const outcomes = await Promise.allSettled(
        event.Records.map(async (record) => {
          if (!fanOut) throw new Error('The webhook pipeline is not connected yet.');
          const { tenantId, event: recorded } = JSON.parse(record.body) as {
            tenantId: string;
            event: AuditEvent;
          };
          await fanOut.fanOut(tenantId, recorded);
        }),
      );
      return {
        batchItemFailures: outcomes.flatMap((o, i) =>
          o.status === 'rejected'
            ? [{ itemIdentifier: (event.Records[i] as SQSEvent['Records'][number]).messageId }]
            : [],
        ),
      };
    },
    onDeadLetter: (record) => logger.error('recorded event not fanned out', { messageId: record.messageId }),
  });

  return {
    /** For compose: called once an audit event is written; it only enqueues. */
    onEventRecorded(tenantId: string, event: AuditEvent): void {
      events.send(JSON.stringify({ tenantId, event }));
    },
    connect(app: App): void {
      fanOut = composeWebhookFanOut(app, { queue });
      deliver = makeWebhookDeliveryHandler({
        delivery: composeWebhookDelivery(app, queue),
        visibility: {
          delay: async (receiptHandle, delayMs) => deliveries.changeVisibility(receiptHandle, delayMs),
        },
        logger,
      });
    },
    /** Dead-lettered deliveries since start (the local DLQ). */
    deadLetters: (): readonly DeliveryMessage[] => deadLetters,
    /** Resolves once every event so far is fanned out and every delivery settled (retries included). */
    async idle(): Promise<void> {
      await events.idle();
      await deliveries.idle();
    },
    async stop(): Promise<void> {
      await events.stop();
      await deliveries.stop();
    },
  };
}

const failAll = async (event: SQSEvent): Promise<SQSBatchResponse> => ({
  batchItemFailures: event.Records.map((r) => ({ itemIdentifier: r.messageId })),
});
