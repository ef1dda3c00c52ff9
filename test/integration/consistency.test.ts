import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { makeMaintenanceHandler } from '../../functions/maintenance/handler.js';
import { objectKeys, tableKeys } from '../../shared/domain/keys.js';
import type { Actor } from '../../shared/domain/model.js';
import { newTenant, sendBytes } from '../support/api.js';
import { stackDynamoCredentials } from '../support/dynamo.js';
import { CSV, PNG_1x1 } from '../support/samples.js';
import { composeSecondApp, type SecondApp, storeBucket } from '../support/second-app.js';

const run = promisify(execFile);
let second: SecondApp;
let actor: Actor;

async function activeFile(bucketId: string, name: string, bytes: Buffer, type: string) {
  const { file, upload } = await second.app.services.uploads.initiate(actor, bucketId, {
    filename: name,
    contentType: type,
    size: bytes.length,
  });
  await sendBytes(upload, bytes);
  return second.app.services.uploads.complete(actor, file.id, undefined);
}

beforeAll(async () => {
  // Its own table and bucket: the check lists a whole tenant, and the repair rewrites counters.
  second = await composeSecondApp({ label: 'fsck', ownTable: true });
  actor = { tenantId: newTenant('fsck'), userId: 'alice', roles: ['admin'] };
});

describe('the consistency check', () => {
  it('finds strays, lost objects and wrong counters, reports without changing, and repairs with fix', async () => {
    const { services } = second.app;
    const bucket = await services.buckets.create(actor, { name: 'Checked' });
    const kept = await activeFile(bucket.id, 'kept.csv', CSV, 'text/csv');
    const lost = await activeFile(bucket.id, 'lost.png', PNG_1x1, 'image/png');
    await services.uploads.initiate(actor, bucket.id, {
      filename: 'pending.csv',
      contentType: 'text/csv',
      size: 7,
    });
    const store = storeBucket(second.uploadsBucket);
    const strayKey = objectKeys.file(actor.tenantId, bucket.id, '01STRAYSTRAYSTRAYSTRAYSTRA');
    await store.put({
      key: strayKey,
      body: new Uint8Array([1, 2, 3]),
      contentType: 'application/octet-stream',
    });
    await store.delete(lost.objectKey);
    const dynamo = DynamoDBDocumentClient.from(
      new DynamoDBClient({
        region: 'us-east-1',
        endpoint: inject('dynamoEndpoint'),
        credentials: stackDynamoCredentials(),
      }),
    );
    await dynamo.send(
      new UpdateCommand({
        TableName: second.tableName,
        Key: { PK: tableKeys.tenantPk(actor.tenantId), SK: tableKeys.quotaSk },
        UpdateExpression: 'ADD usedBytes :n',
        ExpressionAttributeValues: { ':n': 1000 },
      }),
    );

    // report mode, through the maintenance handler: findings, no change
    const maintenance = makeMaintenanceHandler(services);
    const report = await maintenance({ check: { tenantId: actor.tenantId } });
    expect(report.objectsWithoutMetadata).toEqual([{ providerId: 'default', key: strayKey, size: 3 }]);
    expect(report.metadataWithoutObjects).toEqual([
      { fileId: lost.id, status: 'active', key: lost.objectKey },
    ]);
    expect(report.quota).toEqual({
      recorded: { usedBytes: CSV.length + PNG_1x1.length + 1000, reservedBytes: 7, fileCount: 2 },
      actual: { usedBytes: CSV.length + PNG_1x1.length, reservedBytes: 7, fileCount: 2 },
      consistent: false,
    });
    expect(report.fixed).toBe(false);
    expect(await store.head(strayKey)).not.toBeNull();

    // the CLI says the same and fails
    const env = {
      ...process.env,
      TABLE_NAME: second.tableName,
      UPLOADS_BUCKET: second.uploadsBucket,
      S3_ENDPOINT: inject('s3Endpoint'),
      S3_ACCESS_KEY_ID: inject('stackConfig').s3AccessKeyId,
      S3_SECRET_ACCESS_KEY: inject('stackConfig').s3SecretAccessKey,
      DYNAMODB_ENDPOINT: inject('dynamoEndpoint'),
      DYNAMODB_ACCESS_KEY_ID: stackDynamoCredentials().accessKeyId,
      DYNAMODB_SECRET_ACCESS_KEY: stackDynamoCredentials().secretAccessKey,
    };
    const cli = await run('npx', ['tsx', 'local/fsck-cli.ts', '--tenant', actor.tenantId, '--json'], {
      env,
    }).catch((e) => e);
    expect(cli.code, cli.stderr).toBe(1);
    expect(JSON.parse(cli.stdout).metadataWithoutObjects).toHaveLength(1);

    // repair
    const fixed = await services.consistency.check(actor.tenantId, { fix: true });
    expect(fixed.fixed).toBe(true);
    expect(await store.head(strayKey)).toBeNull();
    await expect(services.files.get(actor, lost.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect((await services.files.get(actor, kept.id)).status).toBe('active');
    expect(await services.quota.get(actor)).toMatchObject({
      usedBytes: CSV.length,
      reservedBytes: 7,
      fileCount: 1,
    });
    const events = await services.quota.events(actor, { type: 'file.lost' }, { limit: 10 });
    expect(events.items).toEqual([
      expect.objectContaining({ fileId: lost.id, actor: 'system', status: 'error' }),
    ]);

    const again = await services.consistency.check(actor.tenantId, { fix: false });
    expect(again.objectsWithoutMetadata).toEqual([]);
    expect(again.metadataWithoutObjects).toEqual([]);
    expect(again.quota.consistent).toBe(true);
  });

  it("finds and repairs a bucket's live-file count (missing on an older bucket, or tampered)", async () => {
    const { services } = second.app;
    const tenant: Actor = { tenantId: newTenant('fsck-count'), userId: 'alice', roles: ['admin'] };
    const older = await services.buckets.create(tenant, { name: 'Older' });
    const tampered = await services.buckets.create(tenant, { name: 'Tampered' });
    const emptied = await services.buckets.create(tenant, { name: 'Emptied' });
    for (const bucketId of [older.id, tampered.id]) {
      const { file, upload } = await services.uploads.initiate(tenant, bucketId, {
        filename: 'a.csv',
        contentType: 'text/csv',
        size: CSV.length,
      });
      await sendBytes(upload, CSV);
      await services.uploads.complete(tenant, file.id, undefined);
    }
    const dynamo = DynamoDBDocumentClient.from(
      new DynamoDBClient({
        region: 'us-east-1',
        endpoint: inject('dynamoEndpoint'),
        credentials: stackDynamoCredentials(),
      }),
    );
    const bucketKey = (id: string) => ({
      PK: tableKeys.tenantPk(tenant.tenantId),
      SK: tableKeys.bucketSk(id),
    });
    // A bucket from before the count, one whose count is wrong (too low: a delete would pass).
    await dynamo.send(
      new UpdateCommand({
        TableName: second.tableName,
        Key: bucketKey(older.id),
        UpdateExpression: 'REMOVE liveFiles',
      }),
    );
    await dynamo.send(
      new UpdateCommand({
        TableName: second.tableName,
        Key: bucketKey(tampered.id),
        UpdateExpression: 'SET liveFiles = :zero',
        ExpressionAttributeValues: { ':zero': 0 },
      }),
    );

    const report = await services.consistency.check(tenant.tenantId, { fix: false });
    expect(report.bucketCounts).toEqual(
      expect.arrayContaining([
        { bucketId: older.id, recorded: null, actual: 1 },
        { bucketId: tampered.id, recorded: 0, actual: 1 },
      ]),
    );
    expect(report.bucketCounts).toHaveLength(2);
    expect(report.bucketCounts.map((b) => b.bucketId)).not.toContain(emptied.id);

    const fixed = await services.consistency.check(tenant.tenantId, { fix: true });
    expect(fixed.fixed).toBe(true);
    expect((await services.consistency.check(tenant.tenantId, { fix: false })).bucketCounts).toEqual([]);
    // The repaired count holds the delete back again.
    await expect(services.buckets.delete(tenant, tampered.id)).rejects.toMatchObject({ code: 'CONFLICT' });
  });
});
