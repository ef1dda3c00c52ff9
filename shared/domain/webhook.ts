/** API.md 13.5: webhooks, their deliveries, the event types they may ask for, the retry schedule. */
export interface Webhook {
  id: string;
  tenantId: string;
  url: string;
  /** Webhook event types (below), or `*` for every one. */
  events: string[];
  createdAt: string;
}

export type DeliveryStatus = 'pending' | 'delivered' | 'failed' | 'dead';

/** One (webhook, event) pair: what the deliveries route lists. */
export interface WebhookDelivery {
  webhookId: string;
  eventId: string;
  type: string;
  /** When it last changed: created, attempted, delivered or dead-lettered. */
  at: string;
  status: DeliveryStatus;
  attempts: number;
  /** A short reason (`HTTP 503`, `timed out after 10000 ms`); never a response body or a secret. */
  lastError: string | null;
  firstAttemptAt: string | null;
}

/** What goes on the delivery queue: one message per (webhook, event), the body fixed at fan-out. */
export interface DeliveryMessage {
  tenantId: string;
  webhookId: string;
  eventId: string;
  type: string;
  /** The exact JSON posted, so every attempt (and its signature) carries the same bytes. */
  body: string;
}

export const WEBHOOK_LIMITS = { maxPerTenant: 25, maxUrlLength: 2048, maxEvents: 32 } as const;

/** Every event type; `*` asks for all of them, and for any added later. */
export const WEBHOOK_EVENT_TYPES = [
  'file.activated',
  'file.rejected',
  'file.infected',
  'file.updated',
  'file.deleted',
  'file.restored',
  'file.purged',
  'file.downloaded',
  'file.lost',
  'preview.rendered',
  'preview.failed',
  'upload.initiated',
  'upload.abandoned',
  'link.created',
  'link.revoked',
  'reference.added',
  'reference.removed',
] as const;
export const ALL_WEBHOOK_EVENTS = '*';

/**
 * The webhook type of an audit event, or null for events that concern no file (buckets,
 * providers, quota, grants: those go to the event bus only). The audit trail says
 * `upload.completed` and `upload.rejected` where API.md's webhooks say `file.activated` and
 * `file.rejected`; every other type keeps its name.
 */
export function webhookEventType(audit: { type: string; fileId: string | null }): string | null {
  if (audit.fileId === null) return null;
  const type =
    audit.type === 'upload.completed'
      ? 'file.activated'
      : audit.type === 'upload.rejected'
        ? 'file.rejected'
        : audit.type;
  return (WEBHOOK_EVENT_TYPES as readonly string[]).includes(type) ? type : null;
}

export const webhookWants = (webhook: Pick<Webhook, 'events'>, type: string) =>
  webhook.events.includes(ALL_WEBHOOK_EVENTS) || webhook.events.includes(type);

/**
 * The retry schedule: exponential steps from `firstDelayMs`, capped at `maxDelayMs` (SQS's
 * visibility limit is 12 h), with jitter, until `minSpanMs` has passed since the first attempt;
 * the first failed attempt after that is the last, and the delivery is dead-lettered.
 */
export interface RetrySchedule {
  firstDelayMs: number;
  maxDelayMs: number;
  minSpanMs: number;
}

export const DEFAULT_RETRY_SCHEDULE: RetrySchedule = {
  firstDelayMs: 30_000,
  maxDelayMs: 12 * 60 * 60 * 1000,
  minSpanMs: 24 * 60 * 60 * 1000,
};

export type RetryDecision = { kind: 'retry'; delayMs: number } | { kind: 'dead' };

/**
 * After failed attempt number `attempts` (1 for the first): wait, or give up. The step doubles
 * each time; "equal jitter" draws it from its upper half, so receivers that failed together do
 * not all come back at once, and the span still grows.
 */
export function nextRetry(
  schedule: RetrySchedule,
  attempts: number,
  elapsedMs: number,
  random: () => number,
): RetryDecision {
  if (elapsedMs >= schedule.minSpanMs) return { kind: 'dead' };
  const step = Math.min(schedule.maxDelayMs, schedule.firstDelayMs * 2 ** Math.max(0, attempts - 1));
  return { kind: 'retry', delayMs: Math.ceil(step / 2 + (random() * step) / 2) };
}
