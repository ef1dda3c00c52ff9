import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  type DynamoDBClient,
  ResourceInUseException,
  ResourceNotFoundException,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';

/**
 * The one table's schema. The CDK stack mirrors it from these constants, so the names here
 * are the contract between the repositories and the deployed table.
 */
export const KEY_ATTRIBUTES = {
  pk: 'PK',
  sk: 'SK',
  gsi1pk: 'GSI1PK',
  gsi1sk: 'GSI1SK',
  gsi2pk: 'GSI2PK',
  gsi2sk: 'GSI2SK',
  gsi3pk: 'GSI3PK',
  gsi3sk: 'GSI3SK',
} as const;

/** Epoch seconds after which DynamoDB may delete the item (audit events). */
export const TTL_ATTRIBUTE = 'ttl';

export const INDEX_NAMES = {
  /** Bucket listing of files, references by entity, events by file, grants by user. */
  gsi1: 'GSI1',
  /** Tenant-wide file listing. */
  gsi2: 'GSI2',
  /** Sparse: only pending and deleted files, for the maintenance sweep. */
  gsi3: 'GSI3',
} as const;

export const GLOBAL_SECONDARY_INDEXES = [
  { indexName: INDEX_NAMES.gsi1, partitionKey: KEY_ATTRIBUTES.gsi1pk, sortKey: KEY_ATTRIBUTES.gsi1sk },
  { indexName: INDEX_NAMES.gsi2, partitionKey: KEY_ATTRIBUTES.gsi2pk, sortKey: KEY_ATTRIBUTES.gsi2sk },
  { indexName: INDEX_NAMES.gsi3, partitionKey: KEY_ATTRIBUTES.gsi3pk, sortKey: KEY_ATTRIBUTES.gsi3sk },
] as const;

export function tableDefinition(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: Object.values(KEY_ATTRIBUTES).map((name) => ({
      AttributeName: name,
      AttributeType: 'S',
    })),
    KeySchema: [
      { AttributeName: KEY_ATTRIBUTES.pk, KeyType: 'HASH' },
      { AttributeName: KEY_ATTRIBUTES.sk, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: GLOBAL_SECONDARY_INDEXES.map((index) => ({
      IndexName: index.indexName,
      KeySchema: [
        { AttributeName: index.partitionKey, KeyType: 'HASH' },
        { AttributeName: index.sortKey, KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: 'ALL' },
    })),
    // As in AWS (infra/constructs/stowage-table.ts): the stream carries every new audit event
    // to the webhook fan-out; the local stack reads it too (local/dynamodb-stream-poller.ts).
    StreamSpecification: { StreamEnabled: true, StreamViewType: STREAM_VIEW_TYPE },
  };
}

export const STREAM_VIEW_TYPE = 'NEW_IMAGE';

const POLL_INTERVAL_MS = 250;
const ACTIVE_TIMEOUT_MS = 5 * 60_000;

/**
 * Creates the table when it is missing, waits until it and its indexes are ACTIVE, turns on
 * TTL and the stream (a table made before webhooks has none). Safe to call on every start and
 * from several processes at once.
 */
export async function ensureTable(client: DynamoDBClient, tableName: string): Promise<void> {
  if (!(await describeStatus(client, tableName))) {
    try {
      await client.send(new CreateTableCommand(tableDefinition(tableName)));
    } catch (error) {
      // Another process created it between our describe and create: that is the goal anyway.
      if (!(error instanceof ResourceInUseException)) throw error;
    }
  }
  await waitUntilActive(client, tableName);
  await enableTtl(client, tableName);
  await enableStream(client, tableName);
}

/** 'ACTIVE' only when the table and every index are active; null when the table is missing. */
async function describeStatus(client: DynamoDBClient, tableName: string): Promise<string | null> {
  try {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    const indexesActive = (Table?.GlobalSecondaryIndexes ?? []).every(
      (index) => index.IndexStatus === 'ACTIVE',
    );
    return Table?.TableStatus === 'ACTIVE' && indexesActive ? 'ACTIVE' : (Table?.TableStatus ?? 'UNKNOWN');
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return null;
    throw error;
  }
}

async function waitUntilActive(client: DynamoDBClient, tableName: string): Promise<void> {
  const deadline = Date.now() + ACTIVE_TIMEOUT_MS;
  for (;;) {
    const status = await describeStatus(client, tableName);
    if (status === 'ACTIVE') return;
    if (Date.now() > deadline) {
      throw new Error(
        `Table ${tableName} is not ACTIVE after ${ACTIVE_TIMEOUT_MS / 1000} s (status ${status}).`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
}

async function enableStream(client: DynamoDBClient, tableName: string): Promise<void> {
  const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
  if (Table?.StreamSpecification?.StreamEnabled) return;
  try {
    await client.send(
      new UpdateTableCommand({
        TableName: tableName,
        StreamSpecification: { StreamEnabled: true, StreamViewType: STREAM_VIEW_TYPE },
      }),
    );
  } catch (error) {
    // A concurrent ensureTable enabled it first.
    const again = await client.send(new DescribeTableCommand({ TableName: tableName }));
    if (!again.Table?.StreamSpecification?.StreamEnabled) throw error;
  }
  await waitUntilActive(client, tableName);
}

async function enableTtl(client: DynamoDBClient, tableName: string): Promise<void> {
  const { TimeToLiveDescription } = await client.send(
    new DescribeTimeToLiveCommand({ TableName: tableName }),
  );
  const status = TimeToLiveDescription?.TimeToLiveStatus;
  if (status === 'ENABLED' || status === 'ENABLING') return;
  try {
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true },
      }),
    );
  } catch (error) {
    // A concurrent ensureTable enabled it first; DynamoDB refuses to enable it twice.
    const again = await client.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
    const now = again.TimeToLiveDescription?.TimeToLiveStatus;
    if (now !== 'ENABLED' && now !== 'ENABLING') throw error;
  }
}
