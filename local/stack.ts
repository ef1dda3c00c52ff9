import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { makeApiHandler } from '../functions/api/handler.js';
import { createTokenRequirement } from '../functions/api/router.js';
import { routes } from '../functions/api/routes.js';
import { type App, compose } from '../functions/lib/compose.js';
import type { StowageConfig } from '../functions/lib/config.js';
import { makeMaintenanceHandler } from '../functions/maintenance/handler.js';
import { makeProcessUploadHandler } from '../functions/process-upload/handler.js';
import { createJsonLogger } from '../shared/adapters/json-logger.js';
import type { StorageCallObserver } from '../shared/adapters/storage-calls.js';
import { canonicalOrigin } from '../shared/domain/endpoint-rules.js';
import { objectKeys } from '../shared/domain/keys.js';
import type { Clock } from '../shared/ports/clock.js';
import type { Logger } from '../shared/ports/logger.js';
import { createLocalAuthorizer } from './authorizer.js';
import { createCors } from './cors.js';
import { type EmbeddedDynamo, startEmbeddedDynamo } from './embedded-dynamodb.js';
import { loadOrCreateKeyPair } from './embedded-s3/credentials.js';
import { type EmbeddedS3, startEmbeddedS3 } from './embedded-s3/index.js';
import { createLocalHttpServer } from './http-server.js';
import { type LocalConfig, ownOrigins, readLocalConfig } from './local-config.js';
import { localRoutes } from './local-routes.js';
import { prepareStores } from './prepare-stores.js';
import { createRateLimiter } from './rate-limiter.js';
import { StartupError } from './startup-error.js';
import { createStorageEventQueue } from './storage-event-queue.js';
import { createLocalWebhookPipeline } from './webhook-pipeline.js';

export interface LocalStackOptions {
  /** Environment as `npm start` sees it, read once into a `LocalConfig`. */
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
  /** Told of every call the service's DynamoDB and S3 clients send (the benchmark counts them). */
  onStorageCall?: StorageCallObserver;
}

export interface LocalStack {
  url: string;
  app: App;
  /** The origins the API and the embedded store answer CORS for. */
  corsOrigins: string[];
  s3Endpoint: string;
  dynamoEndpoint: string;
  /** The embedded DynamoDB Local's Java process; null with DYNAMODB_ENDPOINT. */
  dynamoPid: number | null;
  /** Resolves when every storage event seen so far has been processed. */
  eventsIdle(): Promise<void>;
  /** Resolves when every recorded event so far is fanned out and its webhook deliveries settled. */
  webhooksIdle(): Promise<void>;
  /** Resolves when every preview scheduled ahead of time so far has been rendered. */
  previewsIdle(): Promise<void>;
  /** Resolves when the background sha256 checks asked for so far have run. */
  checksumsIdle(): Promise<void>;
  /** Resolves when the malware scans asked for so far have run (API.md 13.6). */
  scansIdle(): Promise<void>;
  runMaintenance(): Promise<unknown>;
  stop(): Promise<void>;
}

/**
 * The whole service on one machine: embedded S3 store and DynamoDB Local (or the servers
 * named by S3_ENDPOINT / DYNAMODB_ENDPOINT), the table and buckets, the same Lambda handlers
 * behind an HTTP server, storage events into process-upload, maintenance on a timer.
 */
export async function startLocalStack(opts: LocalStackOptions = {}): Promise<LocalStack> {
  const local = withOverrides(readLocalConfig(opts.env ?? process.env), opts);
  const logger = opts.logger ?? createJsonLogger({ service: 'stowage-local' }, 'warn');
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  };

  try {
    // Listening first tells the API's own origin, which the embedded store's CORS needs.
    const http = createLocalHttpServer();
    await new Promise<void>((done, fail) => {
      http.server.once('error', (error: NodeJS.ErrnoException) =>
        fail(
          error.code === 'EADDRINUSE'
            ? new StartupError(`Port ${local.port} (PORT) is in use: stop what listens there, or set PORT.`)
            : error,
        ),
      );
      http.server.listen(local.port, local.host, done);
    });
    stops.push(
      () =>
        new Promise<void>((done) => {
          http.server.close(() => done());
          http.server.closeAllConnections();
        }),
    );
    const { port } = http.server.address() as AddressInfo;
    const corsOrigins = [...new Set([...ownOrigins(local.host, port), ...local.corsOrigins])];

    let embeddedS3: EmbeddedS3 | null = null;
    if (local.s3.kind === 'embedded') {
      embeddedS3 = await startEmbeddedS3({
        dataDir: join(local.dataDir, 's3'),
        port: local.s3.port,
        host: local.host,
        buckets: [local.service.uploadsBucket, local.service.previewBucket],
        allowedOrigins: corsOrigins,
      });
      stops.push((embeddedS3 as EmbeddedS3).stop);
    }
    let dynamo: EmbeddedDynamo | null = null;
    if (local.dynamo.kind === 'embedded') {
      dynamo = await startEmbeddedDynamo({
        dataDir: local.dynamo.inMemory ? undefined : join(local.dataDir, 'dynamodb'),
        port: local.dynamo.port,
        host: local.host,
        // The store's own key pair (<data>/s3/credentials.json) signs for DynamoDB too, as one
        // set of credentials does in AWS, so per-tenant sessions work on both; with S3_ENDPOINT,
        // a pair of its own in <data>/dynamodb/credentials.json.
        credentials: embeddedS3
          ? { accessKeyId: embeddedS3.accessKeyId, secretAccessKey: embeddedS3.secretAccessKey }
          : await loadOrCreateKeyPair(join(local.dataDir, 'dynamodb')),
      });
      stops.push((dynamo as EmbeddedDynamo).stop);
    }
    const config = serviceConfig(local, embeddedS3, dynamo);
    await prepareStores({
      config,
      externalS3: embeddedS3 === null,
      externalDynamo: dynamo === null,
      createMissing: local.createMissing,
    });

    const webhooks = createLocalWebhookPipeline({ logger, dataDir: local.dataDir });
    const app = compose(config, {
      logger,
      clock: opts.clock,
      onEventRecorded: webhooks.onEventRecorded,
      onStorageCall: opts.onStorageCall,
    });
    stops.push(() => webhooks.stop());
    await webhooks.connect(app);
    stops.push(async () => {
      // Renders already running finish before the stores they write to go away.
      app.previewScheduler?.stop();
      app.checksumScheduler?.stop();
      app.scanScheduler?.stop();
      await Promise.all([
        app.previewScheduler?.idle(),
        app.checksumScheduler?.idle(),
        app.scanScheduler?.idle(),
      ]);
      await app.close();
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
    if (local.maintenanceIntervalMs > 0) {
      const timer = setInterval(() => {
        maintenance().catch((error) => logger.error('maintenance failed', { error: String(error) }));
      }, local.maintenanceIntervalMs);
      timer.unref();
      stops.push(async () => clearInterval(timer));
    }

    const url = `http://${local.host.includes(':') ? `[${local.host}]` : local.host}:${port}`;
    http.serve({
      api: makeApiHandler({ services: app.services, claimNames: config.jwt, logger, publicUrl: url }),
      rateLimits: [{ prefix: '/v1/shared/', limiter: createRateLimiter(local.sharedLinkRate) }],
      needsToken: createTokenRequirement(routes),
      authorize: createLocalAuthorizer(local.auth),
      localRoutes: localRoutes({
        devSecret: local.auth.kind === 'dev' ? local.auth.secret : null,
        claimNames: config.jwt,
      }),
      cors: createCors(corsOrigins),
    });

    return {
      url,
      app,
      corsOrigins,
      s3Endpoint: config.s3.endpoint as string,
      dynamoEndpoint: config.dynamo.endpoint as string,
      dynamoPid: dynamo?.pid ?? null,
      eventsIdle: () => queue.idle(),
      webhooksIdle: () => webhooks.idle(),
      previewsIdle: () => app.previewScheduler?.idle() ?? Promise.resolve(),
      checksumsIdle: () => app.checksumScheduler?.idle() ?? Promise.resolve(),
      scansIdle: () => app.scanScheduler?.idle() ?? Promise.resolve(),
      runMaintenance: () => maintenance(),
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/** The options tests and the bench pass win over the environment; `port: 0` frees every port. */
function withOverrides(local: LocalConfig, opts: LocalStackOptions): LocalConfig {
  const free = opts.port === 0;
  const dataDir = opts.dataDir === undefined ? local.dataDir : resolve(opts.dataDir);
  return {
    ...local,
    host: opts.host ?? local.host,
    port: opts.port ?? local.port,
    dataDir,
    maintenanceIntervalMs: opts.maintenanceIntervalMs ?? local.maintenanceIntervalMs,
    s3: local.s3.kind === 'embedded' && free ? { ...local.s3, port: 0 } : local.s3,
    dynamo:
      local.dynamo.kind === 'embedded'
        ? {
            ...local.dynamo,
            port: free ? 0 : local.dynamo.port,
            inMemory: opts.inMemoryDynamo ?? local.dynamo.inMemory,
          }
        : local.dynamo,
    service:
      local.service.secrets.kind === 'local-file'
        ? { ...local.service, secrets: { ...local.service.secrets, dataDir } }
        : local.service,
  };
}

/** The service's config with what the embedded servers decided: their endpoints and key pairs. */
function serviceConfig(
  local: LocalConfig,
  s3: EmbeddedS3 | null,
  dynamo: EmbeddedDynamo | null,
): StowageConfig {
  const base = local.service;
  return {
    ...base,
    // Tests, or a laptop trying a custom provider, may use the embedded store as a tenant's
    // "external" one: its origin is known only now.
    allowedEndpoints:
      s3 && local.allowEmbeddedS3Provider
        ? [...new Set([...base.allowedEndpoints, canonicalOrigin(s3.endpoint) ?? s3.endpoint])]
        : base.allowedEndpoints,
    s3: s3
      ? {
          ...base.s3,
          endpoint: s3.endpoint,
          forcePathStyle: true,
          credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
        }
      : base.s3,
    dynamo: dynamo
      ? { endpoint: dynamo.endpoint, credentials: dynamo.credentials }
      : // DynamoDB Local elsewhere, or moto, accepts any key; the SDK still wants one.
        {
          ...base.dynamo,
          credentials: base.dynamo.credentials ?? { accessKeyId: 'local', secretAccessKey: 'local' },
        },
  };
}
