import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { inject } from 'vitest';
import { type App, compose } from '../../functions/lib/compose.js';
import { readConfig } from '../../functions/lib/config.js';
import { ensureTable } from '../../shared/adapters/dynamodb/table-definition.js';
import type { Clock } from '../../shared/ports/clock.js';
import { silentLogger } from '../../shared/ports/logger.js';
import { stackDynamoCredentials } from './dynamo.js';
import { createStoreBucket } from './second-app.js';

export interface PreviewTestSetup {
  tableName: string;
  uploadsBucket: string;
  previewBucket: string;
}

/** A table, an uploads bucket and a preview bucket of their own, on the stack's servers. */
export async function previewTestSetup(label: string): Promise<PreviewTestSetup> {
  const tableName = `stowage-${label}-${randomBytes(4).toString('hex')}`;
  const admin = new DynamoDBClient({
    region: 'us-east-1',
    endpoint: inject('dynamoEndpoint'),
    credentials: stackDynamoCredentials(),
  });
  await ensureTable(admin, tableName);
  admin.destroy();
  return {
    tableName,
    uploadsBucket: await createStoreBucket(`${label}-up`),
    previewBucket: await createStoreBucket(`${label}-pv`),
  };
}

/**
 * The service composed as a Lambda composes it, over `setup`, with preview settings from `env`
 * (e.g. a tiny PREVIEW_CACHE_MAX_SIZE). Nothing is rendered ahead of time, so the test decides
 * when each preview is drawn; rendering stays in this process (the test's files are its own).
 */
export async function composePreviewApp(
  setup: PreviewTestSetup,
  opts: { clock?: Clock; env?: Record<string, string> } = {},
): Promise<App> {
  const stack = inject('stackConfig');
  const config = readConfig({
    TABLE_NAME: setup.tableName,
    UPLOADS_BUCKET: setup.uploadsBucket,
    PREVIEW_BUCKET: setup.previewBucket,
    S3_ENDPOINT: inject('s3Endpoint'),
    S3_ACCESS_KEY_ID: stack.s3AccessKeyId,
    S3_SECRET_ACCESS_KEY: stack.s3SecretAccessKey,
    DYNAMODB_ENDPOINT: inject('dynamoEndpoint'),
    DYNAMODB_ACCESS_KEY_ID: stackDynamoCredentials().accessKeyId,
    DYNAMODB_SECRET_ACCESS_KEY: stackDynamoCredentials().secretAccessKey,
    FILESTORE_DATA_DIR: await mkdtemp(join(tmpdir(), 'stowage-previews-')),
    PREVIEW_AHEAD: 'off',
    PREVIEW_ISOLATION: 'none',
    ...opts.env,
  });
  return compose(config, { clock: opts.clock, logger: silentLogger });
}
