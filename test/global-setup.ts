import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { startLocalStack } from '../local/stack.js';
import { clamdUnavailable, startClamd } from './support/clamd.js';
import { motoUnavailable, startMoto } from './support/moto-server.js';
import { startSecondOrigin } from './support/second-origin.js';
import { startWebhookReceiver } from './support/webhook-receiver.js';

/**
 * Starts the local stack once per test run, exactly as `npm start` composes it (embedded S3
 * store, DynamoDB Local in memory, the API server, storage events into process-upload) but on
 * free ports. Test files isolate themselves by tenant, or by their own tables and buckets.
 */
export default async function setup(project: TestProject) {
  const dataDir = await mkdtemp(join(tmpdir(), 'stowage-test-'));
  // The demo page served from a second origin, which the stack must answer CORS for.
  const secondOrigin = await startSecondOrigin();
  // The webhook tests' receiver on loopback: the one origin FILESTORE_ALLOWED_ENDPOINTS exempts.
  const receiver = await startWebhookReceiver();
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_OPTIONS: process.env.NODE_OPTIONS,
    FILESTORE_CORS_ORIGINS: secondOrigin.origin,
    // Custom-provider tests play a tenant's own store with the embedded one, on loopback.
    FILESTORE_ALLOW_EMBEDDED_S3_PROVIDER: 'true',
    FILESTORE_ALLOWED_ENDPOINTS: receiver.origin,
    // Webhook retries in seconds rather than a day, and a short attempt timeout (production: 30 s
    // doubling to 12 h over 24 h, 10 s); the full schedule is unit-tested with a fake clock.
    WEBHOOK_RETRY_FIRST_DELAY_MS: '200',
    WEBHOOK_RETRY_MAX_DELAY_MS: '800',
    WEBHOOK_RETRY_MIN_SPAN_MS: '3000',
    WEBHOOK_TIMEOUT_MS: '1500',
  };
  // moto: a second, independent S3 and DynamoDB, for the conformance suite and the core flow.
  const motoMissing = motoUnavailable();
  if (motoMissing && process.env.CI) throw new Error(`CI needs moto for the second backend: ${motoMissing}`);
  const moto = motoMissing ? null : await startMoto();
  project.provide(
    'moto',
    moto ? { endpoint: moto.endpoint, unavailable: null } : { endpoint: '', unavailable: motoMissing },
  );
  // clamd with a database that knows EICAR: the stack's malware scanner (API.md 13.6).
  const clamdMissing = clamdUnavailable();
  if (clamdMissing && process.env.CI) throw new Error(`CI needs clamd for malware scanning: ${clamdMissing}`);
  const clamd = clamdMissing ? null : await startClamd();
  if (clamd) env.CLAMD_SOCKET = clamd.socket;
  project.provide('clamd', { socket: clamd?.socket ?? '', unavailable: clamdMissing });
  const stack = await startLocalStack({
    env,
    port: 0,
    dataDir,
    inMemoryDynamo: true,
    maintenanceIntervalMs: 0,
  }).catch(async (error: unknown) => {
    await secondOrigin.stop();
    await receiver.stop();
    await moto?.stop();
    await clamd?.stop();
    throw error;
  });
  secondOrigin.setApiUrl(stack.url);
  project.provide('apiUrl', stack.url);
  project.provide('secondOrigin', secondOrigin.origin);
  project.provide('webhookReceiver', receiver.origin);
  project.provide('s3Endpoint', stack.s3Endpoint);
  project.provide('dynamoEndpoint', stack.dynamoEndpoint);
  project.provide('dataDir', dataDir);
  project.provide('stackConfig', {
    tableName: stack.app.config.tableName,
    uploadsBucket: stack.app.config.uploadsBucket,
    s3AccessKeyId: stack.app.config.s3.credentials?.accessKeyId ?? '',
    s3SecretAccessKey: stack.app.config.s3.credentials?.secretAccessKey ?? '',
    dynamoAccessKeyId: stack.app.config.dynamo.credentials?.accessKeyId ?? '',
    dynamoSecretAccessKey: stack.app.config.dynamo.credentials?.secretAccessKey ?? '',
  });
  project.provide('dynamoPid', stack.dynamoPid ?? 0);
  project.provide('corsOrigins', stack.corsOrigins);
  return async () => {
    await stack.stop();
    await secondOrigin.stop();
    await receiver.stop();
    await moto?.stop();
    await clamd?.stop();
    await rm(dataDir, { recursive: true, force: true });
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    apiUrl: string;
    /** The demo page's second origin (listed in FILESTORE_CORS_ORIGINS). */
    secondOrigin: string;
    /** The webhook receiver's origin (test/support/webhook-receiver.ts), allow-listed. */
    webhookReceiver: string;
    /** moto's endpoint, or why it could not run here (the moto tests then say so and skip). */
    moto: { endpoint: string; unavailable: string | null };
    /** The stack's clamd (`CLAMD_SOCKET`), or why it could not run here (the scan tests then skip). */
    clamd: { socket: string; unavailable: string | null };
    s3Endpoint: string;
    dynamoEndpoint: string;
    /** The stack's FILESTORE_DATA_DIR (the embedded store keeps its key pair under s3/). */
    dataDir: string;
    stackConfig: {
      tableName: string;
      uploadsBucket: string;
      s3AccessKeyId: string;
      s3SecretAccessKey: string;
      dynamoAccessKeyId: string;
      dynamoSecretAccessKey: string;
    };
    /** DynamoDB Local's Java process. */
    dynamoPid: number;
    corsOrigins: string[];
  }
}
