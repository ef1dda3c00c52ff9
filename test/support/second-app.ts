import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { inject } from 'vitest';
import { type App, compose } from '../../functions/lib/compose.js';
import { readConfig } from '../../functions/lib/config.js';
import { ensureTable } from '../../shared/adapters/dynamodb/table-definition.js';
import { createS3Client, createS3ObjectStore } from '../../shared/adapters/s3-object-store.js';
import type { Clock } from '../../shared/ports/clock.js';
import type { HostResolver } from '../../shared/ports/host-resolver.js';
import { type Logger, silentLogger } from '../../shared/ports/logger.js';
import { stackDynamoCredentials } from './dynamo.js';

/** An S3 client for the stack's embedded store, with the stack's generated key pair. */
export function embeddedS3Client() {
  const config = inject('stackConfig');
  return createS3Client({
    region: 'us-east-1',
    endpoint: inject('s3Endpoint'),
    forcePathStyle: true,
    credentials: { accessKeyId: config.s3AccessKeyId, secretAccessKey: config.s3SecretAccessKey },
  });
}

/** Creates a fresh bucket in the stack's embedded store and answers its name. */
export async function createStoreBucket(label: string): Promise<string> {
  const name = `${label}-${randomBytes(4).toString('hex')}`;
  const client = embeddedS3Client();
  await client.send(new CreateBucketCommand({ Bucket: name }));
  client.destroy();
  return name;
}

/** The object store port over one bucket of the embedded store, to check what it really holds. */
export const storeBucket = (bucket: string) => createS3ObjectStore({ client: embeddedS3Client(), bucket });

export interface SecondApp {
  app: App;
  /** The uploads bucket this app uses as its `default` provider's storage. */
  uploadsBucket: string;
  tableName: string;
}

/**
 * A second composition of the service, as a Lambda would build it from its environment, against
 * the servers of the running stack. By default it gets its own uploads bucket, so the stack's
 * storage-event queue (which only forwards its own bucket's events) never processes its objects;
 * `ownTable` also gives it its own table, so a sweep with an advanced clock cannot touch the
 * files other test files keep in the stack's table.
 */
export async function composeSecondApp(
  opts: {
    label: string;
    clock?: Clock;
    logger?: Logger;
    ownTable?: boolean;
    env?: Record<string, string>;
    /** The name resolver of endpoint checks and guarded connections (DNS when absent). */
    resolver?: HostResolver;
  } = {
    label: 'app',
  },
): Promise<SecondApp> {
  const stack = inject('stackConfig');
  const dynamoEndpoint = inject('dynamoEndpoint');
  const uploadsBucket = await createStoreBucket(`stowage-${opts.label}`);
  let tableName = stack.tableName;
  if (opts.ownTable) {
    tableName = `stowage-${opts.label}-${randomBytes(4).toString('hex')}`;
    const admin = new DynamoDBClient({
      region: 'us-east-1',
      endpoint: dynamoEndpoint,
      credentials: stackDynamoCredentials(),
    });
    await ensureTable(admin, tableName);
    admin.destroy();
  }
  const config = readConfig({
    TABLE_NAME: tableName,
    UPLOADS_BUCKET: uploadsBucket,
    S3_ENDPOINT: inject('s3Endpoint'),
    S3_ACCESS_KEY_ID: stack.s3AccessKeyId,
    S3_SECRET_ACCESS_KEY: stack.s3SecretAccessKey,
    DYNAMODB_ENDPOINT: dynamoEndpoint,
    DYNAMODB_ACCESS_KEY_ID: stackDynamoCredentials().accessKeyId,
    DYNAMODB_SECRET_ACCESS_KEY: stackDynamoCredentials().secretAccessKey,
    FILESTORE_DATA_DIR: await mkdtemp(join(tmpdir(), `stowage-${opts.label}-`)),
    ...opts.env,
  });
  const app = compose(config, {
    clock: opts.clock,
    logger: opts.logger ?? silentLogger,
    resolver: opts.resolver,
  });
  return { app, uploadsBucket, tableName };
}

/** A clock the test moves by hand; it starts at the real time. */
export function manualClock() {
  let now = Date.now();
  return {
    now: () => new Date(now),
    set: (ms: number) => {
      now = ms;
    },
    advance: (ms: number) => {
      now += ms;
    },
    ms: () => now,
  };
}
