import type { AuditEvent, FileRecord } from '../domain/model.js';
import { type DeliveryMessage, webhookEventType, webhookWants } from '../domain/webhook.js';
import type { Clock } from '../ports/clock.js';
import type { MetadataStore } from '../ports/repositories.js';
import type { EventBus, WebhookQueue } from '../ports/webhook-transport.js';

export interface WebhookFanOutDeps {
  metadata: Pick<MetadataStore, 'webhooks' | 'files'>;
  queue: WebhookQueue;
  /** The event bus (AWS); absent: events go to webhooks only. */
  bus?: EventBus;
  clock: Clock;
  /** The file as the API answers it (functions/api/views.ts), so a webhook reads what GET reads. */
  fileView: (file: FileRecord) => unknown;
}

/**
 * One recorded audit event → the bus, and one `pending` delivery plus one queue message per
 * webhook of the event's tenant that wants its type. Replays are harmless: the delivery item is
 * written only once, and the delivery function skips a pair already delivered or dead.
 */
export class WebhookFanOut {
  constructor(private readonly deps: WebhookFanOutDeps) {}

  async fanOut(tenantId: string, event: AuditEvent): Promise<{ queued: number }> {
    await this.deps.bus?.publish([{ tenantId, event }]);
    const type = webhookEventType(event);
    if (type === null) return { queued: 0 };
    const webhooks = (await this.deps.metadata.webhooks.listAll(tenantId)).filter((w) =>
      webhookWants(w, type),
    );
    if (webhooks.length === 0) return { queued: 0 };
    // The file as it stands now (a few milliseconds after the event); null once it is purged.
    const file = event.fileId === null ? null : await this.deps.metadata.files.get(tenantId, event.fileId);
    const body = JSON.stringify({
      id: event.id,
      type,
      at: event.at,
      tenantId,
      file: file ? this.deps.fileView(file) : null,
    });
    const at = this.deps.clock.now().toISOString();
    const messages: DeliveryMessage[] = [];
    for (const webhook of webhooks) {
      await this.deps.metadata.webhooks.createDelivery(
        tenantId,
        {
          webhookId: webhook.id,
          eventId: event.id,
          type,
          at,
          status: 'pending',
          attempts: 0,
          lastError: null,
          firstAttemptAt: null,
        },
        body,
      );
      messages.push({ tenantId, webhookId: webhook.id, eventId: event.id, type, body });
    }
    await this.deps.queue.send(messages);
    return { queued: messages.length };
  }
}
