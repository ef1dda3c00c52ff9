import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBStreamEvent, SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeWebhookDeliveryHandler } from '../../../functions/webhook-delivery/handler.js';
import { auditEventOf, makeWebhookFanOutHandler } from '../../../functions/webhook-fan-out/handler.js';
import { createEventBridgeEventBus } from '../../../shared/adapters/eventbridge-event-bus.js';
import { createSqsWebhookQueue } from '../../../shared/adapters/sqs-webhook-queue.js';
import type { AuditEvent } from '../../../shared/domain/model.js';
import type { DeliveryMessage } from '../../../shared/domain/webhook.js';
import { silentLogger } from '../../../shared/ports/logger.js';

const event: AuditEvent = {
  id: '01JEVENT000000000000000001',
  type: 'upload.completed',
  at: '2026-12-01T10:00:00.000Z',
  actor: 'alice',
  fileId: 'F1',
  providerId: 'default',
  status: 'ok',
  latencyMs: 12,
  details: { size: 3 },
};
/** An event item as event-repository.ts writes it, in the stream's attribute-value form. */
const image = (tenantId: string, e: AuditEvent) =>
  marshall({ PK: `T#${tenantId}#EV`, SK: e.id, entity: 'event', ...e, ttl: 1 }) as never;
const streamRecord = (seq: string, newImage: unknown, eventName = 'INSERT') =>
  ({
    eventName,
    dynamodb: { SequenceNumber: seq, NewImage: newImage },
  }) as DynamoDBStreamEvent['Records'][number];

describe('the fan-out handler', () => {
  it('reads tenant and event back from an event item, and nothing from other items', () => {
    expect(auditEventOf(image('acme', event))).toEqual({ tenantId: 'acme', event });
    expect(auditEventOf(marshall({ PK: 'T#acme#F#F1', SK: 'FILE', entity: 'file' }) as never)).toBeNull();
    expect(auditEventOf(marshall({ PK: 'T#acme', SK: 'X', entity: 'event' }) as never)).toBeNull();
  });

  it('fans out inserted events in order and reports the first failure, so the stream retries from it', async () => {
    const seen: string[] = [];
    const handler = makeWebhookFanOutHandler({
      logger: silentLogger,
      fanOut: {
        fanOut: async (tenantId, e) => {
          seen.push(`${tenantId}/${e.id}`);
          if (e.id.endsWith('2')) throw new Error('throttled');
          return { queued: 1 };
        },
      },
    });
    const second = { ...event, id: '01JEVENT000000000000000002' };
    const third = { ...event, id: '01JEVENT000000000000000003' };
    const answer = await handler({
      Records: [
        streamRecord('1', image('acme', event)),
        streamRecord('1b', image('acme', event), 'MODIFY'),
        streamRecord('2', image('acme', second)),
        streamRecord('3', image('acme', third)),
      ],
    });
    expect(seen).toEqual(['acme/01JEVENT000000000000000001', 'acme/01JEVENT000000000000000002']);
    expect(answer).toEqual({ batchItemFailures: [{ itemIdentifier: '2' }] });
  });
});

describe('the delivery handler', () => {
  const message = (eventId: string): DeliveryMessage => ({
    tenantId: 'acme',
    webhookId: 'WH1',
    eventId,
    type: 'file.activated',
    body: '{}',
  });
  const sqsRecord = (id: string, body: string) =>
    ({ messageId: id, receiptHandle: `rh-${id}`, body }) as SQSEvent['Records'][number];

  it('hides a message to retry for its delay and fails it; done ones and broken ones are told apart', async () => {
    const delays: [string, number][] = [];
    const handler = makeWebhookDeliveryHandler({
      logger: silentLogger,
      visibility: { delay: async (rh, ms) => void delays.push([rh, ms]) },
      delivery: {
        attempt: async (m) =>
          m.eventId === 'E1'
            ? { kind: 'delivered' }
            : m.eventId === 'E2'
              ? { kind: 'retry', delayMs: 45_000 }
              : { kind: 'dead' },
      },
    });
    const answer = await handler({
      Records: [
        sqsRecord('m1', JSON.stringify(message('E1'))),
        sqsRecord('m2', JSON.stringify(message('E2'))),
        sqsRecord('m3', JSON.stringify(message('E3'))),
        sqsRecord('m4', '{"tenantId":"../x"}'),
      ],
    });
    expect(delays).toEqual([['rh-m2', 45_000]]);
    expect(answer.batchItemFailures).toEqual([{ itemIdentifier: 'm2' }, { itemIdentifier: 'm4' }]);
  });
});

describe('the SQS and EventBridge adapters', () => {
  const requests: { headers: IncomingMessage['headers']; body: any }[] = [];
  let endpoint = '';
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      requests.push({ headers: req.headers, body });
      if (body.QueueUrl === 'refuse') {
        res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' });
        return res.end(
          JSON.stringify({ __type: 'com.amazonaws.sqs#QueueDoesNotExist', message: 'no such queue' }),
        );
      }
      // Answers as SQS does: the SDK checks the MD5 of every body it sent.
      const md5 = (text: string) => createHash('md5').update(text).digest('hex');
      const target = String(req.headers['x-amz-target']);
      const answer =
        target === 'AmazonSQS.SendMessage'
          ? { MessageId: 'm', MD5OfMessageBody: md5(body.MessageBody) }
          : target === 'AmazonSQS.SendMessageBatch'
            ? {
                Successful: body.Entries.map((e: any) => ({
                  Id: e.Id,
                  MessageId: `m${e.Id}`,
                  MD5OfMessageBody: md5(e.MessageBody),
                })),
                Failed: [],
              }
            : target === 'AWSEvents.PutEvents'
              ? { FailedEntryCount: 0, Entries: [] }
              : {};
      res.writeHead(200).end(JSON.stringify(answer));
    });
  });
  beforeAll(async () => {
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(() => new Promise<void>((done) => server.close(() => done())));
  const credentials = async () => ({ accessKeyId: 'TESTKEYID', secretAccessKey: 'test-secret' });
  // The real SDK clients, pointed at the recording server.
  const sqs = () => new SQSClient({ region: 'eu-west-1', credentials, endpoint, maxAttempts: 1 });

  it('send signed JSON-protocol calls through the SDK: batches of ten, visibility in seconds capped at 12 h, the DLQ', async () => {
    requests.length = 0;
    const queue = createSqsWebhookQueue({
      client: sqs(),
      queueUrl: 'https://sqs/q',
      deadLetterQueueUrl: 'https://sqs/dlq',
    });
    const messages = Array.from({ length: 12 }, (_, i) => ({
      tenantId: 't',
      webhookId: 'w',
      eventId: `E${i}`,
      type: 'file.activated',
      body: '{}',
    }));
    await queue.send(messages);
    await queue.delay('rh-1', 1_500);
    await queue.delay('rh-2', 24 * 3_600_000);
    await queue.deadLetter(messages[0] as DeliveryMessage);
    expect(requests.map((r) => r.headers['x-amz-target'])).toEqual([
      'AmazonSQS.SendMessageBatch',
      'AmazonSQS.SendMessageBatch',
      'AmazonSQS.ChangeMessageVisibility',
      'AmazonSQS.ChangeMessageVisibility',
      'AmazonSQS.SendMessage',
    ]);
    expect(requests[0]?.body.Entries).toHaveLength(10);
    expect(requests[1]?.body.Entries).toHaveLength(2);
    expect(JSON.parse(requests[1]?.body.Entries[1].MessageBody)).toEqual(messages[11]);
    expect(requests[2]?.body).toEqual({
      QueueUrl: 'https://sqs/q',
      ReceiptHandle: 'rh-1',
      VisibilityTimeout: 2,
    });
    expect(requests[3]?.body.VisibilityTimeout).toBe(43_200);
    expect(requests[4]?.body.QueueUrl).toBe('https://sqs/dlq');
    for (const r of requests) {
      expect(r.headers['content-type']).toBe('application/x-amz-json-1.0');
      expect(r.headers.authorization).toMatch(
        /^AWS4-HMAC-SHA256 Credential=TESTKEYID\/\d{8}\/eu-west-1\/sqs\/aws4_request, SignedHeaders=[^,]*x-amz-target[^,]*, Signature=[0-9a-f]{64}$/,
      );
    }
  });

  it('put events on the bus with the tenant and the event, and surface AWS errors without the body', async () => {
    requests.length = 0;
    const client = new EventBridgeClient({ region: 'eu-west-1', credentials, endpoint, maxAttempts: 1 });
    await createEventBridgeEventBus({ client, busName: 'stowage-events' }).publish([
      { tenantId: 'acme', event },
    ]);
    expect(requests[0]?.headers['x-amz-target']).toBe('AWSEvents.PutEvents');
    expect(requests[0]?.body.Entries).toEqual([
      {
        EventBusName: 'stowage-events',
        Source: 'stowage',
        DetailType: 'upload.completed',
        Time: Date.parse(event.at) / 1000,
        Detail: JSON.stringify({ tenantId: 'acme', event }),
      },
    ]);
    const refused = await sqs()
      .send(new SendMessageCommand({ QueueUrl: 'refuse', MessageBody: 'secret-ish' }))
      .catch((e: unknown) => e as Error);
    expect(refused).toMatchObject({ name: 'QueueDoesNotExist', message: 'no such queue' });
    expect(JSON.stringify(refused)).not.toContain('secret-ish');
  });
});
