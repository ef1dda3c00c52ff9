import {
  ChangeMessageVisibilityCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { DeliveryMessage } from '../domain/webhook.js';
import type { MessageVisibility, WebhookQueue } from '../ports/webhook-transport.js';

/** SQS allows at most 10 entries per batch call, and a visibility timeout of at most 12 hours. */
const BATCH = 10;
const MAX_VISIBILITY_SECONDS = 43_200;

/** The webhook delivery queue and its dead-letter queue in SQS. */
export function createSqsWebhookQueue(opts: {
  client: SQSClient;
  queueUrl: string;
  deadLetterQueueUrl: string;
}): WebhookQueue & MessageVisibility {
  return {
    async send(messages) {
      for (let i = 0; i < messages.length; i += BATCH) {
        const chunk = messages.slice(i, i + BATCH);
        const out = await opts.client.send(
          new SendMessageBatchCommand({
            QueueUrl: opts.queueUrl,
            Entries: chunk.map((m, n) => ({ Id: String(n), MessageBody: JSON.stringify(m) })),
          }),
        );
        if (out.Failed && out.Failed.length > 0)
          throw new Error(
            `SQS refused ${out.Failed.length} delivery messages (${out.Failed[0]?.Code ?? 'unknown'}).`,
          );
      }
    },
    async deadLetter(message: DeliveryMessage) {
      await opts.client.send(
        new SendMessageCommand({ QueueUrl: opts.deadLetterQueueUrl, MessageBody: JSON.stringify(message) }),
      );
    },
    async delay(receiptHandle, delayMs) {
      await opts.client.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: opts.queueUrl,
          ReceiptHandle: receiptHandle,
          VisibilityTimeout: Math.min(MAX_VISIBILITY_SECONDS, Math.max(0, Math.ceil(delayMs / 1000))),
        }),
      );
    },
  };
}
