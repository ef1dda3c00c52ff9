import { randomBytes } from 'node:crypto';
import { requireRole } from '../domain/access.js';
import { conflict, notFound, validationFailed } from '../domain/errors.js';
import type { Actor, Page } from '../domain/model.js';
import {
  ALL_WEBHOOK_EVENTS,
  WEBHOOK_EVENT_TYPES,
  WEBHOOK_LIMITS,
  type Webhook,
  type WebhookDelivery,
} from '../domain/webhook.js';
import type { PageRequest } from '../ports/repositories.js';
import { assertCallableEndpoint } from './endpoint-check.js';
import type { ServiceDeps } from './service-deps.js';

export interface CreateWebhookInput {
  url: string;
  events: string[];
}

/** Webhooks (API.md 13.5), admin only: create (the secret shown once), list, delete, deliveries. */
export class WebhookService {
  constructor(private readonly deps: ServiceDeps) {}

  async create(actor: Actor, input: CreateWebhookInput): Promise<{ webhook: Webhook; secret: string }> {
    requireRole(actor, 'admin');
    const known = new Set<string>([...WEBHOOK_EVENT_TYPES, ALL_WEBHOOK_EVENTS]);
    const unknown = input.events.filter((e) => !known.has(e));
    if (unknown.length > 0) {
      throw validationFailed(`Unknown event types: ${unknown.join(', ')}.`, {
        issues: [{ path: 'body.events', message: `known: ${[...known].join(', ')}` }],
      });
    }
    await assertCallableEndpoint(input.url, 'url', {
      allowedOrigins: this.deps.settings.allowedEndpoints ?? [],
      resolver: this.deps.resolver,
      shape: 'url',
    });
    const existing = await this.deps.metadata.webhooks.listAll(actor.tenantId);
    if (existing.length >= WEBHOOK_LIMITS.maxPerTenant) {
      throw conflict(`A tenant may have at most ${WEBHOOK_LIMITS.maxPerTenant} webhooks.`);
    }
    const webhook: Webhook = {
      id: this.deps.ids.next(),
      tenantId: actor.tenantId,
      url: input.url,
      events: [...new Set(input.events)],
      createdAt: this.deps.clock.now().toISOString(),
    };
    // 256 bits; the secret store holds it, so the delivery can sign and no answer but this one shows it.
    const secret = `whsec_${randomBytes(32).toString('base64url')}`;
    await this.deps.secrets.putWebhookSecret(actor.tenantId, webhook.id, secret);
    try {
      await this.deps.metadata.webhooks.create(webhook);
    } catch (error) {
      await this.deps.secrets.deleteWebhookSecret(actor.tenantId, webhook.id).catch(() => undefined);
      throw error;
    }
    return { webhook, secret };
  }

  async list(actor: Actor): Promise<Webhook[]> {
    requireRole(actor, 'admin');
    return this.deps.metadata.webhooks.listAll(actor.tenantId);
  }

  async delete(actor: Actor, webhookId: string): Promise<void> {
    requireRole(actor, 'admin');
    if (!(await this.deps.metadata.webhooks.delete(actor.tenantId, webhookId))) throw notFound('The webhook');
    // Deliveries still queued find no webhook and are dropped; the secret goes with it.
    await this.deps.secrets.deleteWebhookSecret(actor.tenantId, webhookId);
  }

  async deliveries(actor: Actor, webhookId: string, page: PageRequest): Promise<Page<WebhookDelivery>> {
    requireRole(actor, 'admin');
    // A bad cursor is 400 before a missing webhook is 404 (API.md 0): the page is read either way.
    const [webhook, deliveries] = await Promise.all([
      this.deps.metadata.webhooks.get(actor.tenantId, webhookId),
      this.deps.metadata.webhooks.listDeliveries(actor.tenantId, webhookId, page),
    ]);
    if (!webhook) throw notFound('The webhook');
    return deliveries;
  }
}
