import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { makeApiHandler } from '../functions/api/handler.js';
import { createTokenRequirement } from '../functions/api/router.js';
import { routes } from '../functions/api/routes.js';
import { type App, compose } from '../functions/lib/compose.js';
import { readConfig } from '../functions/lib/config.js';
import { makeMaintenanceHandler } from '../functions/maintenance/handler.js';
import { makeProcessUploadHandler } from '../functions/process-upload/handler.js';
import { ensureTable } from '../shared/adapters/dynamodb/table-definition.js';
import { createJsonLogger } from '../shared/adapters/json-logger.js';
import { objectKeys } from '../shared/domain/keys.js';
import type { Clock } from '../shared/ports/clock.js';
import type { Logger } from '../shared/ports/logger.js';
import { type AuthorizerOptions, createLocalAuthorizer } from './authorizer.js';
import { DEFAULT_DEV_SECRET } from './dev-token.js';
import { startEmbeddedDynamo } from './embedded-dynamodb.js';
import { type EmbeddedS3, startEmbeddedS3 } from './embedded-s3/index.js';
import { createLocalHttpServer } from './http-server.js';
import { localRoutes } from './local-routes.js';
import { createStorageEventQueue } from './storage-event-queue.js';

export interface LocalStackOptions {
  /** Environment as `npm start` sees it; defaults fill in the embedded servers. */
  env?: NodeJS.ProcessEnv;
  /** 0 picks free ports for the API and the embedded servers (tests). */
  port?: number;
  host?: string;
  dataDir?: string;
  /** Keep DynamoDB in memory (tests); `npm start` persists under the data dir. */
  inMemoryDynamo?: boolean;
  maintenanceIntervalMs?: number;
  logger?: Logger;
  clock?: Clock;
}

export interface LocalStack {
  url: string;
  app: App;
  s3Endpoint: string;
  dynamoEndpoint: string;
  /** Resolves when every storage event seen so far has been processed. */
  eventsIdle(): Promise<void>;
  /** Resolves when every preview scheduled ahead of time so far has been rendered. */
  previewsIdle(): Promise<void>;
  runMaintenance(): Promise<unknown>;
  stop(): Promise<void>;
}

/**
 * The whole service on one machine: embedded S3 store and DynamoDB Local (or the servers
 * named by S3_ENDPOINT / DYNAMODB_ENDPOINT), the table and bucket, the same Lambda handlers
 * behind an HTTP server, storage events into process-upload, maintenance on a timer.
 */
export async function startLocalStack(opts: LocalStackOptions = {}): Promise<LocalStack> {
  const env = { ...(opts.env ?? process.env) };
  const host = opts.host ?? '127.0.0.1';
  const dataDir = resolve(opts.dataDir ?? env.FILESTORE_DATA_DIR ?? '.data');
  const logger = opts.logger ?? createJsonLogger({ service: 'stowage-local' }, 'warn');
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  };

  try {
    env.TABLE_NAME ||= 'stowage';
    env.UPLOADS_BUCKET ||= env.S3_BUCKET || 'stowage-uploads';
    env.PREVIEW_BUCKET ||= 'stowage-previews';
    env.FILESTORE_DATA_DIR = dataDir;

    let embeddedS3: EmbeddedS3 | null = null;
    if (!env.S3_ENDPOINT) {
      embeddedS3 = await startEmbeddedS3({
        dataDir: join(dataDir, 's3'),
        port: opts.port === 0 ? 0 : Number(env.S3_PORT || 4569),
        host,
        buckets: [env.UPLOADS_BUCKET, env.PREVIEW_BUCKET],
        // Browsers may reach the store from these origins only; by default the API's own (below).
        allowedOrigins: corsOrigins(env),
      });
      stops.push(() => (embeddedS3 as EmbeddedS3).stop());
      env.S3_ENDPOINT = embeddedS3.endpoint;
      env.S3_ACCESS_KEY_ID = embeddedS3.accessKeyId;
      env.S3_SECRET_ACCESS_KEY = embeddedS3.secretAccessKey;
      // Tests, or a laptop trying a custom provider, may use the embedded store as a tenant's
      // "external" one: its origin is known only now, so the stack adds it to the allow-list.
      if (/^(1|true|yes)$/i.test(env.FILESTORE_ALLOW_EMBEDDED_S3_PROVIDER ?? ''))
        env.FILESTORE_ALLOWED_ENDPOINTS = [env.FILESTORE_ALLOWED_ENDPOINTS, embeddedS3.endpoint]
          .filter(Boolean)
          .join(',');
    }
    if (!env.DYNAMODB_ENDPOINT) {
      const dynamo = await startEmbeddedDynamo({
        dataDir: opts.inMemoryDynamo ? undefined : join(dataDir, 'dynamodb'),
        port: opts.port === 0 ? 0 : Number(env.DYNAMODB_PORT || 8000),
      });
      stops.push(() => dynamo.stop());
      env.DYNAMODB_ENDPOINT = dynamo.endpoint;
    }
    // DynamoDB Local and MinIO accept any signature key; the SDK still wants one.
    env.DYNAMODB_ACCESS_KEY_ID ||= 'local';
    env.DYNAMODB_SECRET_ACCESS_KEY ||= 'local';

    const config = readConfig(env);
    const dynamoAdmin = new DynamoDBClient({
      region: config.region,
      endpoint: config.dynamo.endpoint as string,
      credentials: config.dynamo.credentials ?? undefined,
    });
    await ensureTable(dynamoAdmin, config.tableName);
    dynamoAdmin.destroy();
    if (embeddedS3) {
      await embeddedS3.createBucket(config.uploadsBucket);
      await embeddedS3.createBucket(config.previewBucket);
    }

    const app = compose(config, { logger, clock: opts.clock });
    stops.push(async () => {
      // Renders already running finish before the stores they write to go away.
      app.previewScheduler?.stop();
      await app.previewScheduler?.idle();
    });
    const processUpload = makeProcessUploadHandler({ validation: app.services.validation, logger });
    const queue = createStorageEventQueue({
      consumer: processUpload,
      prefix: objectKeys.tenantsRoot,
      onDeadLetter: (record) => logger.error('storage event dead-lettered', { messageId: record.messageId }),
    });
    stops.push(() => queue.stop());
    if (embeddedS3) {
      const unsubscribe = embeddedS3.onObjectCreated((record) => {
        if (record.s3.bucket.name === config.uploadsBucket) queue.publish(record);
      });
      stops.push(async () => unsubscribe());
    }

    const maintenance = makeMaintenanceHandler(app.services);
    const interval = opts.maintenanceIntervalMs ?? Number(env.FILESTORE_MAINTENANCE_INTERVAL_MS || 60_000);
    if (interval > 0) {
      const timer = setInterval(() => {
        maintenance().catch((error) => logger.error('maintenance failed', { error: String(error) }));
      }, interval);
      timer.unref();
      stops.push(async () => clearInterval(timer));
    }

    const authorizer = authorizerOptions(env);
    const server = createLocalHttpServer({
      api: makeApiHandler({ services: app.services, claimNames: config.jwt, logger }),
      needsToken: createTokenRequirement(routes),
      authorize: createLocalAuthorizer(authorizer),
      localRoutes: localRoutes({
        devSecret: authorizer.kind === 'dev' ? authorizer.secret : null,
        claimNames: config.jwt,
      }),
    });
    await new Promise<void>((done, fail) => {
      server.once('error', fail);
      server.listen(opts.port ?? Number(env.PORT || 3000), host, done);
    });
    stops.push(
      () =>
        new Promise<void>((done) => {
          server.close(() => done());
          server.closeAllConnections();
        }),
    );
    const { port } = server.address() as AddressInfo;
    if (embeddedS3 && !env.FILESTORE_CORS_ORIGINS) embeddedS3.setAllowedOrigins(apiOrigins(host, port));

    return {
      url: `http://${host}:${port}`,
      app,
      s3Endpoint: config.s3.endpoint as string,
      dynamoEndpoint: config.dynamo.endpoint as string,
      eventsIdle: () => queue.idle(),
      previewsIdle: () => app.previewScheduler?.idle() ?? Promise.resolve(),
      runMaintenance: () => maintenance(),
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/** FILESTORE_CORS_ORIGINS: comma-separated origins allowed to call storage from a browser. */
function corsOrigins(env: NodeJS.ProcessEnv): string[] {
  return (env.FILESTORE_CORS_ORIGINS ?? '')
    .split(',')
    .map((origin) => origin.trim())
    .filter(Boolean);
}

/** Where a browser opens the API (and so the demo page) when the stack listens on `host`. */
function apiOrigins(host: string, port: number): string[] {
  if (host === '0.0.0.0' || host === '::' || host === '127.0.0.1') {
    return [`http://127.0.0.1:${port}`, `http://localhost:${port}`];
  }
  return [`http://${host.includes(':') ? `[${host}]` : host}:${port}`];
}

function authorizerOptions(env: NodeJS.ProcessEnv): AuthorizerOptions {
  if (env.JWT_JWKS_URL) {
    if (!env.JWT_ISSUER) throw new Error('JWT_ISSUER is required with JWT_JWKS_URL.');
    return {
      kind: 'jwks',
      jwksUrl: env.JWT_JWKS_URL,
      issuer: env.JWT_ISSUER,
      audience: env.JWT_AUDIENCE || undefined,
    };
  }
  return { kind: 'dev', secret: env.FILESTORE_DEV_JWT_SECRET || DEFAULT_DEV_SECRET };
}
