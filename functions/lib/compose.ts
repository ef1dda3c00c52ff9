import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { withBucketCache } from '../../shared/adapters/cached-buckets.js';
import { createClamdMalwareScanner } from '../../shared/adapters/clamd-malware-scanner.js';
import { dnsHostResolver } from '../../shared/adapters/dns-host-resolver.js';
import { createDynamoMetadataStore } from '../../shared/adapters/dynamodb/create-dynamo-metadata-store.js';
import { createGuardDutyMalwareScanner } from '../../shared/adapters/guardduty-malware-scanner.js';
import { createGuardedAgents } from '../../shared/adapters/guarded-http.js';
import { createJsonLogger } from '../../shared/adapters/json-logger.js';
import { createLocalSecretStore } from '../../shared/adapters/local-secret-store.js';
import {
  browserDrawsPreviewOf,
  chromiumAvailable,
  createChromiumPreviewRenderer,
} from '../../shared/adapters/preview/chromium-preview-renderer.js';
import { createCompositePreviewRenderer } from '../../shared/adapters/preview/composite-preview-renderer.js';
import { createDelegatedPreviewRenderer } from '../../shared/adapters/preview/delegated-preview-renderer.js';
import {
  createInProcessPreviewScheduler,
  type InProcessPreviewScheduler,
} from '../../shared/adapters/preview/in-process-preview-scheduler.js';
import { createIsolatedPreviewRenderer } from '../../shared/adapters/preview/isolated-preview-renderer.js';
import {
  createLambdaPreviewScheduler,
  type LambdaPreviewScheduler,
} from '../../shared/adapters/preview/lambda-preview-scheduler.js';
import { createPdfjsCanvasPreviewRenderer } from '../../shared/adapters/preview/pdfjs-canvas-preview-renderer.js';
import { createRoutedPreviewScheduler } from '../../shared/adapters/preview/routed-preview-scheduler.js';
import { createProviderObjectStores } from '../../shared/adapters/provider-object-stores.js';
import { createS3Client, createS3ObjectStore } from '../../shared/adapters/s3-object-store.js';
import { createSecretsManagerSecretStore } from '../../shared/adapters/secrets-manager-secret-store.js';
import { observeStorageCalls, type StorageCallObserver } from '../../shared/adapters/storage-calls.js';
import { runAsTenant } from '../../shared/adapters/tenant-scope/tenant-context.js';
import { createStsTenantCredentials } from '../../shared/adapters/tenant-scope/tenant-credentials.js';
import { routeByTenant } from '../../shared/adapters/tenant-scope/tenant-router.js';
import { createUlidGenerator } from '../../shared/adapters/ulid-id-generator.js';
import { DEFAULT_PROVIDER_ID } from '../../shared/domain/ids.js';
import type { AuditEvent, Provider } from '../../shared/domain/model.js';
import { type Clock, systemClock } from '../../shared/ports/clock.js';
import type { HostResolver } from '../../shared/ports/host-resolver.js';
import type { Logger } from '../../shared/ports/logger.js';
import type { MetadataStore } from '../../shared/ports/repositories.js';
import { createServices, type ServiceDeps, type Services } from '../../shared/services/index.js';
import { readConfig, type StowageConfig } from './config.js';

export interface App {
  config: StowageConfig;
  services: Services;
  metadata: MetadataStore;
  logger: Logger;
  deps: ServiceDeps;
  /** Ahead-of-time preview rendering in this process, when configured (`PREVIEW_AHEAD`). */
  previewScheduler: InProcessPreviewScheduler | null;
  /** Background checks of declared sha256s in this process (no `CHECKSUM_FUNCTION_NAME`). */
  checksumScheduler: InProcessPreviewScheduler | null;
  /** Malware scans by clamd in this process (API.md 13.6), when clamd is configured. */
  scanScheduler: InProcessPreviewScheduler | null;
  /**
   * Resolves once the renders scheduled so far have been handed over (`PREVIEW_AHEAD=lambda`:
   * the asynchronous invocations sent). Lambda entry points await it before answering.
   */
  scheduled(): Promise<void>;
  /** Releases the render processes and the browser, for a process that stops (the local stack). */
  close(): Promise<void>;
}

/** The composition root shared by every entry point: SDK clients and adapters, built once. */
export function compose(
  config: StowageConfig,
  overrides: {
    clock?: Clock;
    logger?: Logger;
    resolver?: HostResolver;
    /** Wakes the local stack's stream poller after each recorded event (AWS: the stream's event source). */
    onEventRecorded?: (tenantId: string, event: AuditEvent) => void;
    /** Told of every call the service's DynamoDB and S3 clients send (the benchmark counts them). */
    onStorageCall?: StorageCallObserver;
  } = {},
): App {
  const logger = overrides.logger ?? createJsonLogger({ service: 'stowage' });
  // One resolver for the endpoint check at creation and the guard at connect time (tests inject one).
  const resolver = overrides.resolver ?? dnsHostResolver;
  const observe = overrides.onStorageCall;
  const dynamo = observeStorageCalls(
    new DynamoDBClient({
      region: config.region,
      ...(config.dynamo.endpoint ? { endpoint: config.dynamo.endpoint } : {}),
      ...(config.dynamo.credentials ? { credentials: config.dynamo.credentials } : {}),
    }),
    'dynamodb',
    observe,
  );
  const systemMetadata = createDynamoMetadataStore({
    client: DynamoDBDocumentClient.from(dynamo, { marshallOptions: { removeUndefinedValues: true } }),
    tableName: config.tableName,
    onEventWritten: overrides.onEventRecorded,
  });
  const s3 = observeStorageCalls(
    createS3Client({
      region: config.region,
      endpoint: config.s3.endpoint ?? undefined,
      forcePathStyle: config.s3.forcePathStyle,
      credentials: config.s3.credentials ?? undefined,
    }),
    's3',
    observe,
  );
  const systemSecrets =
    config.secrets.kind === 'secrets-manager'
      ? createSecretsManagerSecretStore({
          client: new SecretsManagerClient({ region: config.region }),
          prefix: config.secrets.prefix,
        })
      : createLocalSecretStore({ dataDir: config.secrets.dataDir, keyBase64: config.secrets.keyBase64 });

  // The second wall: inside a request, every adapter below answers with its tenant's instance,
  // whose clients hold STS credentials narrowed to that tenant (tenant-scope/).
  const scoped = tenantScopedFactories(config, logger, observe);
  const metadata = withBucketCache(
    routeByTenant({
      system: systemMetadata,
      forTenant: scoped ? (t) => scoped.metadata(t) : () => systemMetadata,
    }),
  );
  const secrets = routeByTenant({
    system: systemSecrets,
    forTenant: scoped?.secrets ? (t) => scoped.secrets?.(t) ?? systemSecrets : () => systemSecrets,
  });
  const uploadsStore = createS3ObjectStore({ client: s3, bucket: config.uploadsBucket });
  const stores = createProviderObjectStores({
    defaultStore: routeByTenant({
      system: uploadsStore,
      forTenant: scoped ? (t) => scoped.store(t, config.uploadsBucket) : () => uploadsStore,
    }),
    // Read through the router at call time, so the lookup runs with the caller's tenant scope.
    providers: { get: (tenantId, providerId) => metadata.providers.get(tenantId, providerId) },
    secrets,
    agents: createGuardedAgents({ allowedOrigins: config.allowedEndpoints, resolver }),
  });
  const systemPreviewCache = createS3ObjectStore({ client: s3, bucket: config.previewBucket });
  const previewCache = routeByTenant({
    system: systemPreviewCache,
    forTenant: scoped ? (t) => scoped.store(t, config.previewBucket) : () => systemPreviewCache,
  });
  const previewScheduler =
    config.previews.ahead === 'in-process' ? createInProcessPreviewScheduler({ logger }) : null;
  const lambdaScheduler = lambdaPreviewScheduler(config, logger);
  const deps: ServiceDeps = {
    metadata,
    stores,
    secrets,
    clock: overrides.clock ?? systemClock,
    ids: createUlidGenerator(),
    logger,
    resolver,
    settings: {
      maxFileSize: config.limits.maxFileSize,
      multipartThreshold: config.limits.multipartThreshold,
      minPartSize: config.limits.minPartSize,
      uploadUrlTtlSeconds: config.limits.uploadUrlTtlSeconds,
      partUrlTtlSeconds: config.limits.partUrlTtlSeconds,
      downloadUrlTtlSeconds: config.limits.downloadUrlTtlSeconds,
      quarantineRejected: config.quarantineRejected,
      sniffBytes: 4100,
      allowedEndpoints: config.allowedEndpoints,
    },
    previews: {
      renderer: previewRenderer(config, logger),
      // The cache bucket, through the deployment's own client (the uploads bucket when unset).
      cache: previewCache,
      scheduler: previewScheduler ?? lambdaScheduler ?? undefined,
      settings: {
        width: config.previews.width,
        maxAgeMs: config.previews.maxAgeMs,
        maxCacheBytes: config.previews.maxCacheBytes,
        urlTtlSeconds: config.limits.downloadUrlTtlSeconds,
        onDemand: config.previews.onDemand,
        // A render in another function starts cold now and then (about a second); in this process, at once.
        retryAfterSeconds: config.previews.onDemand === 'schedule' ? 2 : 1,
      },
    },
  };
  const checksums = checksumJobs(config, logger);
  deps.checksums = checksums.scheduler;
  const malware = malwareScanning(config, logger);
  if (malware) deps.malware = malware;
  const services = createServices(deps, defaultProvider(config));
  previewScheduler?.connect((tenantId, fileId) => services.previews.renderAhead(tenantId, fileId));
  checksums.inProcess?.connect((tenantId, fileId) =>
    runAsTenant(tenantId, async () => {
      await services.validation.verifyChecksum(tenantId, fileId);
    }),
  );
  malware?.queue?.connect((tenantId, fileId) =>
    runAsTenant(tenantId, async () => {
      await services.validation.scanForMalware(tenantId, fileId);
    }),
  );
  const scheduled = async () => {
    await Promise.all([lambdaScheduler?.settled(), checksums.lambda?.settled()]);
  };
  return {
    config,
    services,
    metadata,
    logger,
    deps,
    close: async () => {
      await deps.previews?.renderer.close?.();
    },
    previewScheduler,
    checksumScheduler: checksums.inProcess,
    scanScheduler: malware?.queue ?? null,
    scheduled,
  };
}

/**
 * A Lambda handler that answers only once the renders it scheduled have been sent: a function
 * is frozen as soon as it answers, and an invocation still in flight then may never leave.
 */
export function settlingScheduled<E, C, R>(
  app: Pick<App, 'scheduled'>,
  handler: (event: E, context: C) => Promise<R>,
): (event: E, context: C) => Promise<R> {
  return async (event, context) => {
    try {
      return await handler(event, context);
    } finally {
      await app.scheduled();
    }
  };
}

/**
 * Where the background check of a big declared sha256 runs: the verify-checksum function
 * (`CHECKSUM_FUNCTION_NAME`), or a queue in this process. A Lambda without the function name
 * has neither (it is frozen once it answers): its checks then run inline, and it says so.
 */
function checksumJobs(config: StowageConfig, logger: Logger) {
  if (config.checksumFunctionName) {
    const lambda = createLambdaPreviewScheduler({
      client: new LambdaClient({ region: config.region }),
      functionName: config.checksumFunctionName,
      logger,
      job: 'checksum',
    });
    return { scheduler: lambda, lambda, inProcess: null };
  }
  if (config.inLambda) {
    logger.warn('CHECKSUM_FUNCTION_NAME is not set: declared sha256s are verified inline');
    return { scheduler: undefined, lambda: null, inProcess: null };
  }
  const inProcess = createInProcessPreviewScheduler({ logger, job: 'checksum' });
  return { scheduler: inProcess, lambda: null, inProcess };
}

/** `PREVIEW_AHEAD=lambda`: renders are asynchronous invocations of the render function. */
function lambdaPreviewScheduler(config: StowageConfig, logger: Logger): LambdaPreviewScheduler | null {
  const { ahead, renderFunctionName, browserFunctionName } = config.previews;
  if (ahead !== 'lambda' || !renderFunctionName) return null;
  const client = new LambdaClient({ region: config.region });
  const render = createLambdaPreviewScheduler({ client, functionName: renderFunctionName, logger });
  if (!browserFunctionName) return render;
  // SVG, text and HTML to the function that carries Chromium (`PREVIEW_BROWSER=lambda`).
  const browser = createLambdaPreviewScheduler({ client, functionName: browserFunctionName, logger });
  return createRoutedPreviewScheduler({
    routes: [{ types: browserDrawsPreviewOf, scheduler: browser }],
    fallback: render,
  });
}

/**
 * Builders of one tenant's adapters, with credentials from STS AssumeRole tagged with the tenant
 * (the role's own policy scopes by the tag); null where tenant isolation is off (the local stack, which has no STS).
 */
function tenantScopedFactories(config: StowageConfig, logger: Logger, observe?: StorageCallObserver) {
  const isolation = config.tenantIsolation;
  if (!isolation) return null;
  // Presigned URLs die with the credentials that signed them: renew well before that.
  const urlLifetimeMs =
    Math.max(
      config.limits.uploadUrlTtlSeconds,
      config.limits.partUrlTtlSeconds,
      config.limits.downloadUrlTtlSeconds,
    ) * 1000;
  const refreshBeforeMs = urlLifetimeMs + 60_000;
  const credentialsFor = createStsTenantCredentials({
    sts: new STSClient({ region: config.region }),
    roleArn: isolation.roleArn,
    refreshBeforeMs,
    logger,
  });
  // The SDK renews credentials five minutes before `expiration`: move it so it renews when we do.
  const sdkCredentials = (t: string) => async () => {
    const c = await credentialsFor(t);
    const expiration = c.expiration
      ? new Date(c.expiration.getTime() - refreshBeforeMs + 300_000)
      : undefined;
    return { ...c, expiration };
  };
  return {
    metadata: (t: string) =>
      createDynamoMetadataStore({
        client: DynamoDBDocumentClient.from(
          observeStorageCalls(
            new DynamoDBClient({
              region: config.region,
              credentials: sdkCredentials(t),
              ...(config.dynamo.endpoint ? { endpoint: config.dynamo.endpoint } : {}),
            }),
            'dynamodb',
            observe,
          ),
          { marshallOptions: { removeUndefinedValues: true } },
        ),
        tableName: config.tableName,
      }),
    store: (t: string, bucket: string) =>
      createS3ObjectStore({
        client: observeStorageCalls(
          createS3Client({
            region: config.region,
            endpoint: config.s3.endpoint ?? undefined,
            forcePathStyle: config.s3.forcePathStyle,
            credentials: sdkCredentials(t),
          }),
          's3',
          observe,
        ),
        bucket,
      }),
    secrets:
      config.secrets.kind === 'secrets-manager'
        ? (t: string) =>
            createSecretsManagerSecretStore({
              client: new SecretsManagerClient({ region: config.region, credentials: sdkCredentials(t) }),
              prefix: (config.secrets as { prefix: string }).prefix,
            })
        : null,
  };
}

export const composeFromEnv = (env: NodeJS.ProcessEnv) => compose(readConfig(env));

function previewRenderer(config: StowageConfig, logger: Logger) {
  const raster = rasterRenderer(config, logger);
  const { browser, chromiumPath, renderTimeoutMs: timeoutMs, browserFunctionName } = config.previews;
  if (browser === 'lambda')
    return createCompositePreviewRenderer([
      raster,
      createDelegatedPreviewRenderer({
        supports: browserDrawsPreviewOf,
        drawnBy: `the browser render function ${browserFunctionName}`,
      }),
    ]);
  // Chromium runs in its own processes: a page it cannot draw cannot take this one down.
  if (browser === 'off' || !chromiumAvailable(chromiumPath)) return raster;
  return createCompositePreviewRenderer([
    raster,
    createChromiumPreviewRenderer({ executablePath: chromiumPath, timeoutMs }),
  ]);
}

function rasterRenderer(config: StowageConfig, logger: Logger) {
  const { maxSourceBytes, renderTimeoutMs: timeoutMs } = config.previews;
  if (config.previews.isolation === 'none')
    return createPdfjsCanvasPreviewRenderer({ maxSourceBytes, timeoutMs });
  return createIsolatedPreviewRenderer({
    logger,
    maxSourceBytes,
    timeoutMs,
    processes: config.previews.renderProcesses,
    maxMemoryBytes: config.previews.renderMaxMemoryBytes,
    hostModule: config.previews.hostModule ?? undefined,
  });
}

/** The built-in `default` provider: the deployment's own storage. */
export function defaultProvider(config: StowageConfig): Provider {
  return {
    id: DEFAULT_PROVIDER_ID,
    type: 's3',
    name: 'Default storage',
    config: { bucket: config.uploadsBucket, region: config.region },
    hasCredentials: false,
    // The built-in provider exists as long as the deployment: it has no creation record.
    createdAt: '1970-01-01T00:00:00.000Z',
    updatedAt: '1970-01-01T00:00:00.000Z',
  };
}

/**
 * The malware scanner (API.md 13.6): clamd, asked from a queue in this process (a scan streams
 * the whole object, so it never runs inside a request); GuardDuty, whose result is only read
 * where the file is validated, and arrives otherwise as its scan-result event.
 */
function malwareScanning(config: StowageConfig, logger: Logger) {
  const scanner = config.malwareScanner;
  if (!scanner) return null;
  if (scanner.kind === 'guardduty') return { scanner: createGuardDutyMalwareScanner(), queue: null };
  const queue = createInProcessPreviewScheduler({ logger, job: 'malware-scan', concurrency: 2 });
  return {
    scanner: createClamdMalwareScanner({
      address: scanner.address,
      timeoutMs: scanner.timeoutMs,
      maxStreamBytes: scanner.maxStreamBytes,
    }),
    jobs: queue,
    queue,
  };
}
