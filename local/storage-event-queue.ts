import { randomUUID } from 'node:crypto';
import type { S3EventRecord, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';

export interface StorageEventQueueOptions {
  consumer: (event: SQSEvent) => Promise<SQSBatchResponse>;
  /** What the AWS notification filter passes: `tenants/` in the uploads bucket (`publish` only). */
  prefix?: string;
  batchSize?: number;
  batchWindowMs?: number;
  maxReceiveCount?: number;
  onDeadLetter?: (record: SQSRecord) => void;
  /** Names the queue in each record's `eventSourceARN`. @default 'stowage-upload-events' */
  queueName?: string;
}

/**
 * The local stand-in for S3 notifications → SQS → Lambda: records are wrapped one per message
 * as S3 sends them, delivered in batches, and failed messages (partial batch response) are
 * redelivered with backoff until `maxReceiveCount`, then dead-lettered. Any other body can be
 * sent with `send` (the webhook delivery queue), and a consumer may set how long a message it
 * fails stays invisible (`changeVisibility`, SQS's ChangeMessageVisibility).
 */
export function createStorageEventQueue(opts: StorageEventQueueOptions) {
  const batchSize = opts.batchSize ?? 10;
  const windowMs = opts.batchWindowMs ?? 20;
  const maxReceive = opts.maxReceiveCount ?? 5;
  const waiting: { record: SQSRecord; receives: number }[] = [];
  let timer: NodeJS.Timeout | undefined;
  /** Failed messages waiting out their backoff before redelivery: not handled yet. */
  let retrying = 0;
  let inFlight = Promise.resolve();
  let stopped = false;
  /** Visibility timeouts set by the consumer for messages of the batch in hand, by receipt handle. */
  const visibility = new Map<string, number>();
  /** Cleared on stop: a webhook retry may be hours away, and must not keep the process alive. */
  const retryTimers = new Set<NodeJS.Timeout>();
  const queueArn = `arn:aws:sqs:local:000000000000:${opts.queueName ?? 'stowage-upload-events'}`;

  const schedule = (delay = windowMs) => {
    if (stopped || timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      inFlight = inFlight.then(drain);
    }, delay);
  };

  const drain = async () => {
    while (waiting.length > 0 && !stopped) {
      const batch = waiting.splice(0, batchSize);
      for (const item of batch) item.record.attributes.ApproximateReceiveCount = String(++item.receives);
      let failed = new Set<string>();
      try {
        const result = await opts.consumer({ Records: batch.map((b) => b.record) });
        failed = new Set(result.batchItemFailures.map((f) => f.itemIdentifier));
      } catch {
        failed = new Set(batch.map((b) => b.record.messageId));
      }
      const retry = batch.filter((b) => failed.has(b.record.messageId));
      for (const item of retry) {
        const delay = visibility.get(item.record.receiptHandle) ?? 100 * 2 ** item.receives;
        if (item.receives >= maxReceive) opts.onDeadLetter?.(item.record);
        else {
          retrying += 1;
          const retryTimer = setTimeout(() => {
            retryTimers.delete(retryTimer);
            retrying -= 1;
            waiting.push(item);
            schedule();
          }, delay);
          retryTimers.add(retryTimer);
        }
      }
      for (const item of batch) visibility.delete(item.record.receiptHandle);
    }
  };

  return {
    publish(record: S3EventRecord): void {
      if (stopped || !record.s3.object.key.startsWith(encodePrefix(opts.prefix ?? ''))) return;
      waiting.push({
        record: toSqsRecord(JSON.stringify({ Records: [record] }), record.awsRegion, 'local-s3', queueArn),
        receives: 0,
      });
      schedule();
    },
    /** Enqueues a message with any body, as SendMessage does. */
    send(body: string): void {
      if (stopped) return;
      waiting.push({ record: toSqsRecord(body, 'local', 'local', queueArn), receives: 0 });
      schedule();
    },
    /** How long a message of the batch being consumed stays away if it is failed (ms, not s). */
    changeVisibility(receiptHandle: string, delayMs: number): void {
      visibility.set(receiptHandle, Math.max(0, delayMs));
    },
    /** Resolves when everything published so far has been handled (for tests and shutdown). */
    async idle(): Promise<void> {
      while (timer || waiting.length > 0 || retrying > 0) {
        await new Promise((r) => setTimeout(r, windowMs));
        await inFlight;
      }
      await inFlight;
    },
    async stop(): Promise<void> {
      stopped = true;
      if (timer) clearTimeout(timer);
      for (const retryTimer of retryTimers) clearTimeout(retryTimer);
      retryTimers.clear();
      await inFlight;
    },
  };
}

const encodePrefix = (prefix: string) => encodeURIComponent(prefix).replace(/%2F/g, '/');

function toSqsRecord(body: string, awsRegion: string, senderId: string, queueArn: string): SQSRecord {
  const now = Date.now();
  return {
    messageId: randomUUID(),
    receiptHandle: randomUUID(),
    body,
    attributes: {
      ApproximateReceiveCount: '0',
      SentTimestamp: String(now),
      SenderId: senderId,
      ApproximateFirstReceiveTimestamp: String(now),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion,
  };
}
