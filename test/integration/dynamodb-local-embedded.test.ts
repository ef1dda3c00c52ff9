import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, expect, it } from 'vitest';
import { startEmbeddedDynamo } from '../../local/embedded-dynamodb.js';
import { ensureTable } from '../../shared/adapters/dynamodb/table-definition.js';

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

const credentials = { accessKeyId: 'DDBLOCALTEST', secretAccessKey: 'a-secret-for-this-test-only' };
const clientFor = (endpoint: string) =>
  new DynamoDBClient({ endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });

it('keeps tables in its data directory across restarts, and is gone once stop() resolves', async () => {
  // Prepare
  const dataDir = await mkdtemp(join(tmpdir(), 'stowage-dynamo-'));
  dirs.push(dataDir);
  const first = await startEmbeddedDynamo({ dataDir, port: 0, credentials });
  const firstClient = clientFor(first.endpoint);
  await ensureTable(firstClient, 'kept');

  // Act
  await first.stop();
  const afterStop = await firstClient.send(new ListTablesCommand({})).catch((error: unknown) => error);
  firstClient.destroy();
  const second = await startEmbeddedDynamo({ dataDir, port: 0, credentials });
  const secondClient = clientFor(second.endpoint);

  // Assess
  try {
    expect(afterStop).toBeInstanceOf(Error);
    expect((afterStop as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
    expect((await secondClient.send(new ListTablesCommand({}))).TableNames).toEqual(['kept']);
  } finally {
    secondClient.destroy();
    await second.stop();
  }
}, 180_000);
