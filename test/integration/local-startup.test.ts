import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startLocalStack } from '../../local/stack.js';
import { StartupError } from '../../local/startup-error.js';

const run = promisify(execFile);

/** `npm start` as a user runs it, with this environment; resolves with how it ended. */
async function npmStart(env: Record<string, string>) {
  const result = await run(join('node_modules', '.bin', 'tsx'), ['local/main.ts'], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NODE_NO_WARNINGS: '1', ...env },
    timeout: 120_000,
  }).then(
    (ok) => ({ code: 0, stdout: ok.stdout, stderr: ok.stderr }),
    (failed: { code: number; stdout: string; stderr: string }) => failed,
  );
  return result;
}

/** A port nothing listens on. */
function closedPort(): Promise<number> {
  return new Promise((done) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
}

const moto = inject('moto');

/**
 * `npm start` against external servers (S3_ENDPOINT, DYNAMODB_ENDPOINT) that lack the buckets
 * or the table, or do not answer: it used to print `ready`, and every upload then failed.
 */
describe.skipIf(moto.unavailable)('npm start against external servers (moto)', () => {
  let dataDir: string;
  // moto is shared by the whole run: names of our own, which nothing else creates.
  const id = randomBytes(4).toString('hex');
  const names = {
    UPLOADS_BUCKET: `startup-uploads-${id}`,
    PREVIEW_BUCKET: `startup-previews-${id}`,
    TABLE_NAME: `startup-${id}`,
  };
  const external = () => ({
    S3_ENDPOINT: moto.endpoint,
    S3_ACCESS_KEY_ID: 'moto',
    S3_SECRET_ACCESS_KEY: 'moto-secret',
    DYNAMODB_ENDPOINT: moto.endpoint,
    FILESTORE_DATA_DIR: dataDir,
    PORT: '0',
    ...names,
  });

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'stowage-startup-'));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('stops before "ready", exit code 1, saying what to create, without a stack trace', async () => {
    // Act
    const started = await npmStart(external());
    // Assess
    expect(started.code).toBe(1);
    expect(started.stdout).not.toContain('ready');
    expect(started.stderr).toContain('Stowage did not start');
    expect(started.stderr).toContain(
      `S3 bucket "${names.UPLOADS_BUCKET}" does not exist at ${moto.endpoint}`,
    );
    expect(started.stderr).toContain(
      `S3 bucket "${names.PREVIEW_BUCKET}" does not exist at ${moto.endpoint}`,
    );
    expect(started.stderr).toContain(
      `DynamoDB table "${names.TABLE_NAME}" does not exist at ${moto.endpoint}`,
    );
    expect(started.stderr).toContain('FILESTORE_CREATE_MISSING=true');
    expect(started.stderr).not.toMatch(/^\s+at /m);
    expect(started.stderr).not.toContain('moto-secret');
  }, 120_000);

  it('says which endpoint does not answer when nothing listens there', async () => {
    const closed = `http://127.0.0.1:${await closedPort()}`;
    const started = await npmStart({ ...external(), S3_ENDPOINT: closed, DYNAMODB_ENDPOINT: closed });
    expect(started.code).toBe(1);
    expect(started.stdout).not.toContain('ready');
    expect(started.stderr).toContain(`S3_ENDPOINT ${closed} does not answer as S3 (ECONNREFUSED)`);
    expect(started.stderr).toContain(
      `DYNAMODB_ENDPOINT ${closed} does not answer as DynamoDB (ECONNREFUSED)`,
    );
    expect(started.stderr).not.toMatch(/^\s+at /m);
  }, 120_000);

  it('refuses in process too, leaving nothing listening, with a StartupError', async () => {
    const error = await startLocalStack({ env: external(), port: 0 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StartupError);
    expect((error as Error).message).toContain(`"${names.UPLOADS_BUCKET}"`);
  }, 60_000);

  it('creates what is missing with FILESTORE_CREATE_MISSING=true, and starts on them afterwards without it', async () => {
    // Act
    const creating = await startLocalStack({
      env: { ...external(), FILESTORE_CREATE_MISSING: 'true' },
      port: 0,
    });
    await creating.stop();
    const again = await startLocalStack({ env: external(), port: 0 });
    const health = await fetch(`${again.url}/v1/health`);
    await again.stop();
    // Assess: they exist in moto, as the stack needs them.
    const s3 = new S3Client({
      region: 'us-east-1',
      endpoint: moto.endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: 'moto', secretAccessKey: 'moto-secret' },
    });
    const dynamo = new DynamoDBClient({
      region: 'us-east-1',
      endpoint: moto.endpoint,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    try {
      await s3.send(new HeadBucketCommand({ Bucket: names.UPLOADS_BUCKET }));
      await s3.send(new HeadBucketCommand({ Bucket: names.PREVIEW_BUCKET }));
      const { Table } = await dynamo.send(new DescribeTableCommand({ TableName: names.TABLE_NAME }));
      expect(Table?.GlobalSecondaryIndexes?.map((i) => i.IndexName).sort()).toEqual(['GSI1', 'GSI2', 'GSI3']);
      expect(health.status).toBe(200);
    } finally {
      s3.destroy();
      dynamo.destroy();
    }
  }, 120_000);
});
