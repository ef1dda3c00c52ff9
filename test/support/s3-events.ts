import { randomUUID } from 'node:crypto';
import type { S3EventRecord, SQSEvent, SQSRecord } from 'aws-lambda';
import { objectCreatedRecord } from '../../local/embedded-s3/events.js';

/**
 * An S3 notification record for one object, as the uploads bucket's notification delivers it
 * to process-upload: the embedded store's own builder (key form-urlencoded, a space as `+`),
 * so tests and the local stack send records of one shape.
 */
export function s3EventRecord(opts: { bucket: string; key: string; eventName?: string }): S3EventRecord {
  const record = objectCreatedRecord(
    {
      eventName: 'ObjectCreated:Put',
      bucket: opts.bucket,
      key: opts.key,
      size: 0,
      etag: '',
      requestId: 'REQ',
      sourceIp: '127.0.0.1',
    },
    {
      region: 'us-east-1',
      principalId: 'AIDAEXAMPLE',
      eventTime: new Date().toISOString(),
      sequencer: '0055AED6DCD90281E5',
    },
  );
  // Any other event S3 can send (a removal, say), in the same shape.
  return opts.eventName ? { ...record, eventName: opts.eventName } : record;
}

/** One SQS message as the S3 → SQS notification delivers it (one record per body), or any body. */
export function sqsMessage(body: string, messageId = randomUUID()): SQSRecord {
  return {
    messageId,
    receiptHandle: randomUUID(),
    body,
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: String(Date.now()),
      SenderId: 'AIDAEXAMPLE',
      ApproximateFirstReceiveTimestamp: String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:upload-events',
    awsRegion: 'us-east-1',
  };
}

/** The SQS message of an `ObjectCreated:Put` (or `eventName`) notification for one object. */
export const objectCreatedMessage = (bucket: string, key: string, eventName?: string): SQSRecord =>
  sqsMessage(JSON.stringify({ Records: [s3EventRecord({ bucket, key, eventName })] }));

export const sqsBatch = (...records: SQSRecord[]): SQSEvent => ({ Records: records });
