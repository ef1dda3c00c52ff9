import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeTableCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDynamoStreamPoller } from '../../local/dynamodb-stream-poller.js';
import { ensureTable } from '../../shared/adapters/dynamodb/table-definition.js';
import { stackDynamoCredentials } from '../support/dynamo.js';

/**
 * The local stand-in for the stream's event source mapping, on DynamoDB Local's real Streams
 * API: a record the handler fails comes again (and those after it), a restart resumes after
 * the last handled record (nothing handled twice that was checkpointed, nothing skipped), and
 * an empty map in an item reaches the handler as a map.
 */

const target = () => ({
  endpoint: inject('dynamoEndpoint'),
  region: 'us-east-1',
  credentials: stackDynamoCredentials(),
});
const quiet = { info() {}, warn() {}, error() {} };

let dir: string;
let dynamo: DynamoDBClient;
let streams: DynamoDBStreamsClient;
let tableName: string;
let streamArn: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stowage-stream-'));
  dynamo = new DynamoDBClient(target());
  streams = new DynamoDBStreamsClient(target());
  tableName = `stowage-stream-${randomUUID().slice(0, 8)}`;
  await ensureTable(dynamo, tableName);
  const { Table } = await dynamo.send(new DescribeTableCommand({ TableName: tableName }));
  streamArn = Table?.LatestStreamArn as string;
});
afterAll(async () => {
  dynamo.destroy();
  streams.destroy();
  await rm(dir, { recursive: true, force: true });
});

const put = (sk: string) =>
  dynamo.send(
    new PutItemCommand({
      TableName: tableName,
      Item: { PK: { S: 'T#poller#EV' }, SK: { S: sk }, details: { M: {} } },
    }),
  );

/** A poller whose handler records each record's SK and fails the SKs in `failOnce` once. */
function poller(seen: string[], failOnce: Set<string>, images: unknown[] = []) {
  const handler = async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
    for (const record of event.Records) {
      const sk = record.dynamodb?.NewImage?.SK?.S as string;
      images.push(record.dynamodb?.NewImage);
      seen.push(sk);
      if (failOnce.delete(sk))
        return { batchItemFailures: [{ itemIdentifier: record.dynamodb?.SequenceNumber as string }] };
    }
    return { batchItemFailures: [] };
  };
  return createDynamoStreamPoller({
    client: streams,
    streamArn,
    checkpointFile: join(dir, 'checkpoint.json'),
    handler,
    logger: quiet,
    intervalMs: 50,
  });
}

describe('the local stream poller', () => {
  it('hands a failed record over again, then resumes after a restart where it stopped', async () => {
    // Prepare
    await put('a');
    await put('b');
    await put('c');
    const seen: string[] = [];
    const images: unknown[] = [];
    const first = poller(seen, new Set(['b']), images);

    // Act
    await first.start();
    await first.idle();
    await first.idle();
    await first.stop();
    await put('d');
    const afterRestart: string[] = [];
    const second = poller(afterRestart, new Set());
    await second.start();
    await second.idle();
    await second.stop();

    // Assess
    expect(seen).toEqual(['a', 'b', 'b', 'c']);
    expect(afterRestart).toEqual(['d']);
    expect(images[0]).toMatchObject({ details: { M: {} } });
  });
});
