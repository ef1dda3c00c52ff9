import { type DeliveryMessage, nextRetry, type RetrySchedule } from '../domain/webhook.js';
import type { Clock } from '../ports/clock.js';
import type { Logger } from '../ports/logger.js';
import type { MetadataStore } from '../ports/repositories.js';
import type { SecretStore } from '../ports/secret-store.js';
import type { WebhookQueue, WebhookSender } from '../ports/webhook-transport.js';
import { SIGNATURE_HEADER, webhookSignature } from './webhook-signature.js';

export interface WebhookDeliveryDeps {
  metadata: Pick<MetadataStore, 'webhooks'>;
  secrets: Pick<SecretStore, 'getWebhookSecret'>;
  sender: WebhookSender;
  queue: Pick<WebhookQueue, 'deadLetter'>;
  clock: Clock;
  logger: Logger;
  schedule: RetrySchedule;
  /** Jitter; tests pass a fixed one. */
  random?: () => number;
}

export type DeliveryOutcome =
  | { kind: 'delivered' }
  /** Nothing to do: already delivered or dead (a duplicate message), or the webhook was deleted. */
  | { kind: 'skipped' }
  /** Try again after `delayMs` (the queue's visibility timeout). */
  | { kind: 'retry'; delayMs: number }
  | { kind: 'dead' };

/**
 * One attempt of one (webhook, event) delivery: sign, POST, record the outcome. A non-2xx
 * answer, a timeout or a refused address is retried on the schedule; once it has run for its
 * whole span the delivery is `dead` and its message goes to the dead-letter queue.
 */
export class WebhookDelivery {
  constructor(private readonly deps: WebhookDeliveryDeps) {}

  async attempt(message: DeliveryMessage): Promise<DeliveryOutcome> {
    const { metadata, clock } = this.deps;
    const { tenantId, webhookId, eventId } = message;
    const [webhook, delivery] = await Promise.all([
      metadata.webhooks.get(tenantId, webhookId),
      metadata.webhooks.getDelivery(tenantId, webhookId, eventId),
    ]);
    if (!webhook) return { kind: 'skipped' };
    if (delivery?.status === 'delivered' || delivery?.status === 'dead') return { kind: 'skipped' };
    const secret = await this.deps.secrets.getWebhookSecret(tenantId, webhookId);
    if (secret === null) return { kind: 'skipped' };

    const started = clock.now();
    const signature = webhookSignature(message.body, secret, Math.floor(started.getTime() / 1000));
    const result = await this.deps.sender.post(webhook.url, message.body, {
      'content-type': 'application/json',
      'user-agent': 'Stowage-Webhooks/1',
      [SIGNATURE_HEADER]: signature,
      'stowage-event-id': eventId,
    });
    const now = clock.now();
    const attempts = (delivery?.attempts ?? 0) + 1;
    const firstAttemptAt = delivery?.firstAttemptAt ?? started.toISOString();
    const base = { webhookId, eventId, type: message.type, at: now.toISOString(), attempts, firstAttemptAt };

    if (result.kind === 'answered' && result.status >= 200 && result.status < 300) {
      // The last failure stays on record: "delivered at attempt 3, after HTTP 503" is what an admin asks.
      await metadata.webhooks.putDelivery(
        tenantId,
        { ...base, status: 'delivered', lastError: delivery?.lastError ?? null },
        message.body,
      );
      return { kind: 'delivered' };
    }
    const lastError = result.kind === 'answered' ? `HTTP ${result.status}` : result.reason;
    const elapsed = now.getTime() - Date.parse(firstAttemptAt);
    const decision = nextRetry(this.deps.schedule, attempts, elapsed, this.deps.random ?? Math.random);
    if (decision.kind === 'dead') {
      await this.deps.queue.deadLetter(message);
      await metadata.webhooks.putDelivery(tenantId, { ...base, status: 'dead', lastError }, message.body);
      this.deps.logger.warn('webhook delivery dead-lettered', { webhookId, eventId, attempts, lastError });
      return { kind: 'dead' };
    }
    await metadata.webhooks.putDelivery(tenantId, { ...base, status: 'failed', lastError }, message.body);
    return decision;
  }
}
