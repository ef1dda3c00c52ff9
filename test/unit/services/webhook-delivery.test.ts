import { describe, expect, it } from 'vitest';
import {
  DEFAULT_RETRY_SCHEDULE,
  type DeliveryMessage,
  type WebhookDelivery as DeliveryRecord,
  nextRetry,
  webhookEventType,
} from '../../../shared/domain/webhook.js';
import { silentLogger } from '../../../shared/ports/logger.js';
import type { WebhookPostResult } from '../../../shared/ports/webhook-transport.js';
import { WebhookDelivery } from '../../../shared/services/webhook-delivery.js';
import { webhookSignature } from '../../../shared/services/webhook-signature.js';
import { verifyWebhookSignature } from '../../../web/client/verify-webhook-signature.js';

const HOUR = 3_600_000;
const message: DeliveryMessage = {
  tenantId: 'acme',
  webhookId: 'WH1',
  eventId: 'EV1',
  type: 'file.activated',
  body: '{"id":"EV1","type":"file.activated"}',
};

/** The delivery use case over in-memory ports, a clock the test moves and a receiver that answers `answers`. */
function harness(answers: (attempt: number) => WebhookPostResult, random: () => number) {
  let now = Date.parse('2026-12-01T00:00:00.000Z');
  const deliveries = new Map<string, DeliveryRecord>();
  const posts: { at: number; headers: Record<string, string>; body: string }[] = [];
  const deadLetters: DeliveryMessage[] = [];
  const delivery = new WebhookDelivery({
    metadata: {
      webhooks: {
        get: async () => ({
          id: 'WH1',
          tenantId: 'acme',
          url: 'https://hooks.example.com/x',
          events: ['*'],
          createdAt: '',
        }),
        getDelivery: async (_t: string, w: string, e: string) => deliveries.get(`${w}/${e}`) ?? null,
        putDelivery: async (_t: string, d: DeliveryRecord) =>
          void deliveries.set(`${d.webhookId}/${d.eventId}`, d),
      } as never,
    },
    secrets: { getWebhookSecret: async () => 'whsec_test' },
    sender: {
      post: async (_url, body, headers) => {
        posts.push({ at: now, headers, body });
        return answers(posts.length);
      },
    },
    queue: { deadLetter: async (m) => void deadLetters.push(m) },
    clock: { now: () => new Date(now) },
    logger: silentLogger,
    schedule: DEFAULT_RETRY_SCHEDULE,
    random,
  });
  /** Runs attempts as the queue would, each after the delay the last one asked for. */
  const runToEnd = async () => {
    const delays: number[] = [];
    for (;;) {
      const outcome = await delivery.attempt(message);
      if (outcome.kind !== 'retry') return { outcome, delays };
      delays.push(outcome.delayMs);
      now += outcome.delayMs;
    }
  };
  return { delivery, deliveries, posts, deadLetters, runToEnd };
}

describe('the webhook retry schedule', () => {
  it('retries a receiver that always fails for at least 24 hours, in doubling steps of at most 12 hours, then dead-letters it', async () => {
    // Prepare
    const { posts, deliveries, deadLetters, runToEnd } = harness(
      () => ({ kind: 'answered', status: 503 }),
      () => 0.5,
    );
    // Act
    const { outcome, delays } = await runToEnd();
    // Assess
    expect(outcome.kind).toBe('dead');
    const first = posts[0]?.at as number;
    const last = posts.at(-1)?.at as number;
    expect(last - first).toBeGreaterThanOrEqual(24 * HOUR);
    expect(last - first).toBeLessThan(36 * HOUR);
    for (const delay of delays) expect(delay).toBeLessThanOrEqual(12 * HOUR);
    // exponential: each step doubles until the cap
    for (let i = 1; i < delays.length; i += 1) {
      const prev = delays[i - 1] as number;
      expect(delays[i]).toBe(Math.min(prev * 2, 0.75 * 12 * HOUR));
    }
    expect(delays[0]).toBe(22_500); // 30 s step, jittered to its upper half: 15 s + 0.5 × 15 s
    expect(deadLetters).toEqual([message]);
    const record = deliveries.get('WH1/EV1');
    expect(record).toMatchObject({ status: 'dead', attempts: posts.length, lastError: 'HTTP 503' });
    // every attempt carries the same id and body
    expect(new Set(posts.map((p) => p.body))).toEqual(new Set([message.body]));
  });

  it('jitters each step within its upper half', () => {
    const low = nextRetry(DEFAULT_RETRY_SCHEDULE, 3, 0, () => 0);
    const high = nextRetry(DEFAULT_RETRY_SCHEDULE, 3, 0, () => 0.999999);
    expect(low).toEqual({ kind: 'retry', delayMs: 60_000 });
    expect(high.kind === 'retry' && high.delayMs).toBeGreaterThan(119_000);
    expect(high.kind === 'retry' && high.delayMs).toBeLessThanOrEqual(120_000);
    const draws = new Set(
      Array.from(
        { length: 20 },
        () => (nextRetry(DEFAULT_RETRY_SCHEDULE, 5, 0, Math.random) as { delayMs: number }).delayMs,
      ),
    );
    expect(draws.size).toBeGreaterThan(1);
  });

  it('spans at least 24 hours even when every jitter draws the shortest step', async () => {
    const { posts, runToEnd } = harness(
      () => ({ kind: 'failed', reason: 'timed out after 10000 ms' }),
      () => 0,
    );
    const { outcome } = await runToEnd();
    expect(outcome.kind).toBe('dead');
    expect((posts.at(-1)?.at as number) - (posts[0]?.at as number)).toBeGreaterThanOrEqual(24 * HOUR);
  });

  it('stops at the first 2xx, and a duplicate message after that is skipped', async () => {
    const { delivery, deliveries, posts, runToEnd } = harness(
      (n) => (n < 4 ? { kind: 'answered', status: 500 } : { kind: 'answered', status: 204 }),
      () => 0.5,
    );
    const { outcome } = await runToEnd();
    expect(outcome.kind).toBe('delivered');
    expect(deliveries.get('WH1/EV1')).toMatchObject({
      status: 'delivered',
      attempts: 4,
      lastError: 'HTTP 500',
    });
    expect(await delivery.attempt(message)).toEqual({ kind: 'skipped' });
    expect(posts).toHaveLength(4);
  });

  it('signs each attempt so the client helper verifies it, and nothing else', async () => {
    const { posts, runToEnd } = harness(
      () => ({ kind: 'answered', status: 200 }),
      () => 0.5,
    );
    await runToEnd();
    const header = posts[0]?.headers['stowage-signature'] as string;
    const now = posts[0]?.at as number;
    expect(header).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(await verifyWebhookSignature({ body: message.body, header, secret: 'whsec_test', now })).toBe(
      true,
    );
    expect(
      await verifyWebhookSignature({ body: `${message.body} `, header, secret: 'whsec_test', now }),
    ).toBe(false);
    expect(await verifyWebhookSignature({ body: message.body, header, secret: 'whsec_other', now })).toBe(
      false,
    );
    expect(
      await verifyWebhookSignature({ body: message.body, header, secret: 'whsec_test', now: now + 301_000 }),
    ).toBe(false);
    expect(
      await verifyWebhookSignature({ body: message.body, header: 'v1=00', secret: 'whsec_test', now }),
    ).toBe(false);
  });
});

describe('the signature', () => {
  it('is the hex HMAC-SHA256 of "<t>.<body>" (API.md 13.5)', () => {
    // printf '1700000000.{}' | openssl dgst -sha256 -hmac k
    expect(webhookSignature('{}', 'k', 1_700_000_000)).toBe(
      't=1700000000,v1=c6ef4734033cee2367414a0939385eca0397754aa7a59716da7463a9298b5146',
    );
  });
});

describe('webhook event types', () => {
  it.each([
    ['upload.completed', 'F1', 'file.activated'],
    ['upload.rejected', 'F1', 'file.rejected'],
    ['file.deleted', 'F1', 'file.deleted'],
    ['preview.rendered', 'F1', 'preview.rendered'],
    ['bucket.created', null, null],
    ['quota.updated', null, null],
    ['object.removed', 'F1', null],
  ])('audit %s (file %s) is webhook type %s', (type, fileId, expected) => {
    expect(webhookEventType({ type, fileId })).toBe(expected);
  });
});
