import type { AuditEvent } from '../domain/model.js';
import type { DeliveryMessage } from '../domain/webhook.js';

/** The delivery queue (SQS in AWS, the local stack's queue): one message per (webhook, event). */
export interface WebhookQueue {
  send(messages: readonly DeliveryMessage[]): Promise<void>;
  /** After the schedule's last attempt: the message goes to the dead-letter queue, for an operator. */
  deadLetter(message: DeliveryMessage): Promise<void>;
}

/** Where every recorded event is published for other consumers (the EventBridge bus in AWS). */
export interface EventBus {
  publish(entries: readonly { tenantId: string; event: AuditEvent }[]): Promise<void>;
}

/** What one POST to a webhook URL came to: a status, or why no answer came. */
export type WebhookPostResult = { kind: 'answered'; status: number } | { kind: 'failed'; reason: string };

/**
 * POSTs a signed body to a webhook URL, held to API.md 13.7 on the address it connects to, with
 * a timeout and without following redirects (a 3xx is an answer, and not a 2xx).
 */
export interface WebhookSender {
  post(url: string, body: string, headers: Record<string, string>): Promise<WebhookPostResult>;
}

/** How long a failed delivery message stays away before its next attempt (ChangeMessageVisibility). */
export interface MessageVisibility {
  delay(receiptHandle: string, delayMs: number): Promise<void>;
}
