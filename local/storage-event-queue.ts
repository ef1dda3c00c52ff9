import { randomUUID } from 'node:crypto';
import type { S3EventRecord, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';

export interface StorageEventQueueOptions {
  consumer: (event: SQSEvent) => Promise<SQSBatchResponse>;
  /** What the AWS notification filter passes: `tenants/` in the uploads bucket. */
  prefix: string;
  batchSize?: number;
  batchWindowMs?: number;
  maxReceiveCount?: number;
  onDeadLetter?: (record: SQSRecord) => void;
}

/**
 * The local stand-in for S3 notifications → SQS → Lambda: records are wrapped one per message
 * as S3 sends them, delivered in batches, and failed messages (partial batch response) are
 * redelivered with backoff until `maxReceiveCount`, then dead-lettered.
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
        if (item.receives >= maxReceive) opts.onDeadLetter?.(item.record);
        else {
          retrying += 1;
          setTimeout(
            () => {
              retrying -= 1;
              waiting.push(item);
              schedule();
            },
            100 * 2 ** item.receives,
          );
        }
      }
    }
  };

  return {
    publish(record: S3EventRecord): void {
      if (stopped || !record.s3.object.key.startsWith(encodePrefix(opts.prefix))) return;
      waiting.push({ record: toSqsRecord(record), receives: 0 });
      schedule();
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
      await inFlight;
    },
  };
}

const encodePrefix = (prefix: string) => encodeURIComponent(prefix).replace(/%2F/g, '/');

function toSqsRecord(record: S3EventRecord): SQSRecord {
  const now = Date.now();
  return {
    messageId: randomUUID(),
    receiptHandle: randomUUID(),
    body: JSON.stringify({ Records: [record] }),
    attributes: {
      ApproximateReceiveCount: '0',
      SentTimestamp: String(now),
      SenderId: 'local-s3',
      ApproximateFirstReceiveTimestamp: String(now),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:local:000000000000:stowage-upload-events',
    awsRegion: record.awsRegion,
  };
}
