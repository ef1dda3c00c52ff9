import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { startEmbeddedDynamo } from '../local/embedded-dynamodb.js';
import { startEmbeddedS3 } from '../local/embedded-s3.js';

/**
 * Starts the embedded S3 store and DynamoDB Local once per test run. Each test file makes its
 * own buckets and tables (unique names), so files can run in parallel without sharing state.
 */
export default async function setup(project: TestProject) {
  const dataDir = await mkdtemp(join(tmpdir(), 'stowage-test-'));
  const [s3, dynamo] = await Promise.all([
    startEmbeddedS3({ dataDir: join(dataDir, 's3'), port: 0, buckets: [] }),
    startEmbeddedDynamo({ port: 0 }),
  ]);
  project.provide('s3Endpoint', s3.endpoint);
  project.provide('dynamoEndpoint', dynamo.endpoint);
  return async () => {
    await Promise.all([s3.stop(), dynamo.stop()]);
    await rm(dataDir, { recursive: true, force: true });
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    s3Endpoint: string;
    dynamoEndpoint: string;
  }
}
