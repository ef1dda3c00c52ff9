import type { S3EventRecord, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { createStorageEventQueue } from '../../../local/storage-event-queue.js';

const record = (key: string) =>
  ({ awsRegion: 'us-east-1', eventName: 'ObjectCreated:Put', s3: { object: { key } } }) as S3EventRecord;

/** A consumer that fails each message `failures` times before it succeeds, counting deliveries. */
function flakyConsumer(failures: number) {
  const deliveries: string[] = [];
  const consumer = async (event: SQSEvent): Promise<SQSBatchResponse> => {
    const batchItemFailures = [];
    for (const message of event.Records) {
      const key = JSON.parse(message.body).Records[0].s3.object.key as string;
      deliveries.push(key);
      if (deliveries.filter((k) => k === key).length <= failures)
        batchItemFailures.push({ itemIdentifier: message.messageId });
    }
    return { batchItemFailures };
  };
  return { consumer, deliveries };
}

describe('createStorageEventQueue', () => {
  it('is idle only once a failed message has been redelivered and handled', async () => {
    const { consumer, deliveries } = flakyConsumer(1);
    const queue = createStorageEventQueue({ consumer, prefix: 'tenants/' });
    queue.publish(record('tenants/a/b/c'));
    await queue.idle();
    expect(deliveries).toEqual(['tenants/a/b/c', 'tenants/a/b/c']);
    await queue.stop();
  });

  it('dead-letters after maxReceiveCount and delivers only what its prefix passes', async () => {
    const { consumer, deliveries } = flakyConsumer(Number.POSITIVE_INFINITY);
    const dead: string[] = [];
    const queue = createStorageEventQueue({
      consumer,
      prefix: 'tenants/',
      maxReceiveCount: 2,
      onDeadLetter: (message) => dead.push(message.attributes.ApproximateReceiveCount),
    });
    queue.publish(record('quarantine/tenants/a/b/c'));
    queue.publish(record('tenants/a/b/c'));
    await queue.idle();
    expect(deliveries).toEqual(['tenants/a/b/c', 'tenants/a/b/c']);
    expect(dead).toEqual(['2']);
    await queue.stop();
  });
});
