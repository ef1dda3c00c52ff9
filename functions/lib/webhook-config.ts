import { DEFAULT_RETRY_SCHEDULE, type RetrySchedule } from '../../shared/domain/webhook.js';

/** Webhooks and the event bus (API.md 13.5), read with the rest of the config (config.ts). */
export interface WebhookConfig {
  /** `WEBHOOK_QUEUE_URL`: the SQS delivery queue (AWS); unset in the local stack, which has its own. */
  queueUrl: string | null;
  /** `WEBHOOK_DLQ_URL`: where deliveries go after the schedule's last attempt. */
  deadLetterQueueUrl: string | null;
  /** `EVENT_BUS_NAME`: the EventBridge bus every recorded event is put on; unset: none. */
  eventBusName: string | null;
  /** `WEBHOOK_TIMEOUT_MS`: one attempt's limit. @default 10000 */
  timeoutMs: number;
  /**
   * `WEBHOOK_RETRY_FIRST_DELAY_MS`, `WEBHOOK_RETRY_MAX_DELAY_MS` (at most 12 h, SQS's visibility
   * limit), `WEBHOOK_RETRY_MIN_SPAN_MS` (at least 24 h in production; tests shorten it).
   */
  retry: RetrySchedule;
}

const MAX_VISIBILITY_MS = 12 * 60 * 60 * 1000;

export function readWebhookConfig(
  env: Readonly<Record<string, string | undefined>>,
  int: (name: string, fallback: number, min?: number) => number,
  fail: (message: string) => Error,
): WebhookConfig {
  const retry: RetrySchedule = {
    firstDelayMs: int('WEBHOOK_RETRY_FIRST_DELAY_MS', DEFAULT_RETRY_SCHEDULE.firstDelayMs, 1),
    maxDelayMs: int('WEBHOOK_RETRY_MAX_DELAY_MS', DEFAULT_RETRY_SCHEDULE.maxDelayMs, 1),
    minSpanMs: int('WEBHOOK_RETRY_MIN_SPAN_MS', DEFAULT_RETRY_SCHEDULE.minSpanMs, 1),
  };
  if (retry.maxDelayMs > MAX_VISIBILITY_MS)
    throw fail(
      `WEBHOOK_RETRY_MAX_DELAY_MS may be at most ${MAX_VISIBILITY_MS} (12 h, SQS's visibility limit).`,
    );
  return {
    queueUrl: env.WEBHOOK_QUEUE_URL || null,
    deadLetterQueueUrl: env.WEBHOOK_DLQ_URL || null,
    eventBusName: env.EVENT_BUS_NAME || null,
    timeoutMs: int('WEBHOOK_TIMEOUT_MS', 10_000, 100),
    retry,
  };
}
