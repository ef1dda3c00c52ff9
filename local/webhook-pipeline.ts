import { join } from 'node:path';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { App } from '../functions/lib/compose.js';
import { composeWebhookDelivery, composeWebhookFanOut } from '../functions/lib/compose-webhooks.js';
import { makeWebhookDeliveryHandler } from '../functions/webhook-delivery/handler.js';
import { makeWebhookFanOutHandler } from '../functions/webhook-fan-out/handler.js';
import { listUnsettledDeliveries } from '../shared/adapters/dynamodb/unsettled-deliveries.js';
import type { AuditEvent } from '../shared/domain/model.js';
import type { Logger } from '../shared/ports/logger.js';
import type { WebhookQueue } from '../shared/ports/webhook-transport.js';
import type { WebhookFanOut } from '../shared/services/webhook-fan-out.js';
import { createDynamoStreamPoller } from './dynamodb-stream-poller.js';
import { createStorageEventQueue } from './storage-event-queue.js';

/**
 * Webhooks on one machine (API.md 13.5): the same fan-out and delivery code as in AWS. The
 * table's stream → the fan-out handler (read by a poller that keeps its position in the data
 * directory, so an event recorded just before a crash is fanned out after the restart) → one
 * message per webhook on the local delivery queue (AWS: SQS) → the delivery handler, whose
 * retries wait out the schedule as the message's visibility timeout. The queue lives in memory,
 * but every message is also its delivery item in the table (with its body): at start the
 * deliveries still `pending` or `failed` are queued again, and a dead letter is the item marked
 * `dead`, which `GET /v1/webhooks/{id}/deliveries` lists. Nothing runs in the request that
 * recorded the event. No event bus here.
 */
export function createLocalWebhookPipeline(opts: { logger: Logger; dataDir: string }) {
  const { logger } = opts;
  let fanOut: WebhookFanOut | null = null;
  let deliver: ((event: SQSEvent) => Promise<SQSBatchResponse>) | null = null;
  let poller: ReturnType<typeof createDynamoStreamPoller> | null = null;
  let recovered: Promise<void> = Promise.resolve();
  const clients: { destroy(): void }[] = [];

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
      // The delivery item, marked `dead` with its body right after this, is the dead letter.
      logger.warn('webhook delivery dead', { webhookId: message.webhookId, eventId: message.eventId });
    },
  };
  // Only for a table without a stream (an external DynamoDB whose table we did not create).
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
    /** For compose: called once an audit event is written; it only wakes the poller (or enqueues). */
    onEventRecorded(tenantId: string, event: AuditEvent): void {
      if (poller) poller.poke();
      else events.send(JSON.stringify({ tenantId, event }));
    },
    /** Wires the handlers to the app, starts reading the stream and queues the unsettled deliveries. */
    async connect(app: App): Promise<void> {
      const { config } = app;
      fanOut = composeWebhookFanOut(app, { queue });
      deliver = makeWebhookDeliveryHandler({
        delivery: composeWebhookDelivery(app, queue),
        visibility: {
          delay: async (receiptHandle, delayMs) => deliveries.changeVisibility(receiptHandle, delayMs),
        },
        logger,
      });
      const target = {
        region: config.region,
        ...(config.dynamo.endpoint ? { endpoint: config.dynamo.endpoint } : {}),
        ...(config.dynamo.credentials ? { credentials: config.dynamo.credentials } : {}),
      };
      const dynamo = new DynamoDBClient(target);
      const streams = new DynamoDBStreamsClient(target);
      clients.push(dynamo, streams);
      const { Table } = await dynamo.send(new DescribeTableCommand({ TableName: config.tableName }));
      const streamArn = Table?.StreamSpecification?.StreamEnabled ? Table.LatestStreamArn : undefined;
      if (streamArn) {
        poller = createDynamoStreamPoller({
          client: streams,
          streamArn,
          checkpointFile: join(opts.dataDir, 'webhooks', `${config.tableName}.stream-checkpoint.json`),
          handler: makeWebhookFanOutHandler({ fanOut, logger }),
          logger,
        });
        await poller.start();
      } else {
        logger.warn(
          `Table ${config.tableName} has no stream: webhook events are fanned out in this process, and one recorded just before a crash is lost.`,
        );
      }
      recovered = (async () => {
        const ctx = { client: DynamoDBDocumentClient.from(dynamo), tableName: config.tableName };
        for await (const messages of listUnsettledDeliveries(ctx)) await queue.send(messages);
      })().catch((error) =>
        logger.error('unsettled webhook deliveries not queued', { error: String(error) }),
      );
    },
    /** Resolves once every event so far is fanned out and every delivery settled (retries included). */
    async idle(): Promise<void> {
      await recovered;
      await poller?.idle();
      await events.idle();
      await deliveries.idle();
    },
    async stop(): Promise<void> {
      await poller?.stop();
      await events.stop();
      await recovered;
      await deliveries.stop();
      for (const client of clients) client.destroy();
    },
  };
}

const failAll = async (event: SQSEvent): Promise<SQSBatchResponse> => ({
  batchItemFailures: event.Records.map((r) => ({ itemIdentifier: r.messageId })),
});
