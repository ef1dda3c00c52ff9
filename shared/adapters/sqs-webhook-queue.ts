import type { DeliveryMessage } from '../domain/webhook.js';
import type { MessageVisibility, WebhookQueue } from '../ports/webhook-transport.js';
import type { AwsJsonCall } from './aws-json-request.js';

/** SQS allows at most 10 entries per batch call, and a visibility timeout of at most 12 hours. */
const BATCH = 10;
const MAX_VISIBILITY_SECONDS = 43_200;

/** The webhook delivery queue and its dead-letter queue in SQS. */
export function createSqsWebhookQueue(opts: {
  call: AwsJsonCall;
  queueUrl: string;
  deadLetterQueueUrl: string;
}): WebhookQueue & MessageVisibility {
  return {
    async send(messages) {
      for (let i = 0; i < messages.length; i += BATCH) {
        const chunk = messages.slice(i, i + BATCH);
        const out = await opts.call<{ Failed?: { Id: string; Code?: string }[] }>('SendMessageBatch', {
          QueueUrl: opts.queueUrl,
          Entries: chunk.map((m, n) => ({ Id: String(n), MessageBody: JSON.stringify(m) })),
        });
        if (out.Failed && out.Failed.length > 0)
          throw new Error(
            `SQS refused ${out.Failed.length} delivery messages (${out.Failed[0]?.Code ?? 'unknown'}).`,
          );
      }
    },
    async deadLetter(message: DeliveryMessage) {
      await opts.call('SendMessage', {
        QueueUrl: opts.deadLetterQueueUrl,
        MessageBody: JSON.stringify(message),
      });
    },
    async delay(receiptHandle, delayMs) {
      await opts.call('ChangeMessageVisibility', {
        QueueUrl: opts.queueUrl,
        ReceiptHandle: receiptHandle,
        VisibilityTimeout: Math.min(MAX_VISIBILITY_SECONDS, Math.max(0, Math.ceil(delayMs / 1000))),
      });
    },
  };
}
