import { randomUUID } from 'node:crypto';
import { DescribeTableCommand, DescribeTimeToLiveCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, expect, inject, it } from 'vitest';
import { ensureTable, INDEX_NAMES, TTL_ATTRIBUTE } from '../../shared/adapters/dynamodb/table-definition.js';
import { stackDynamoCredentials } from '../support/dynamo.js';

const client = new DynamoDBClient({
  endpoint: inject('dynamoEndpoint'),
  region: 'us-east-1',
  credentials: stackDynamoCredentials(),
});
afterAll(() => client.destroy());

it('creates the table with its three indexes and TTL, and is safe to run again and concurrently', async () => {
  // Prepare
  const tableName = `stowage-table-${randomUUID().slice(0, 8)}`;

  // Act
  await Promise.all([ensureTable(client, tableName), ensureTable(client, tableName)]);
  await ensureTable(client, tableName);

  // Assess
  const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
  expect(Table?.TableStatus).toBe('ACTIVE');
  expect(Table?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
  expect(Table?.KeySchema).toEqual([
    { AttributeName: 'PK', KeyType: 'HASH' },
    { AttributeName: 'SK', KeyType: 'RANGE' },
  ]);
  const indexes = (Table?.GlobalSecondaryIndexes ?? []).map((index) => ({
    name: index.IndexName,
    keys: index.KeySchema?.map((key) => key.AttributeName),
    projection: index.Projection?.ProjectionType,
  }));
  expect(indexes.sort((a, b) => String(a.name).localeCompare(String(b.name)))).toEqual([
    { name: INDEX_NAMES.gsi1, keys: ['GSI1PK', 'GSI1SK'], projection: 'ALL' },
    { name: INDEX_NAMES.gsi2, keys: ['GSI2PK', 'GSI2SK'], projection: 'ALL' },
    { name: INDEX_NAMES.gsi3, keys: ['GSI3PK', 'GSI3SK'], projection: 'ALL' },
  ]);
  const { TimeToLiveDescription } = await client.send(
    new DescribeTimeToLiveCommand({ TableName: tableName }),
  );
  expect(TimeToLiveDescription).toMatchObject({ TimeToLiveStatus: 'ENABLED', AttributeName: TTL_ATTRIBUTE });
});
