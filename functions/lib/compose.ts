import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDynamoMetadataStore } from '../../shared/adapters/dynamodb/create-dynamo-metadata-store.js';
import { createJsonLogger } from '../../shared/adapters/json-logger.js';
import { createLocalSecretStore } from '../../shared/adapters/local-secret-store.js';
import {
  createInProcessPreviewScheduler,
  type InProcessPreviewScheduler,
} from '../../shared/adapters/preview/in-process-preview-scheduler.js';
import { createIsolatedPreviewRenderer } from '../../shared/adapters/preview/isolated-preview-renderer.js';
import { createPdfjsCanvasPreviewRenderer } from '../../shared/adapters/preview/pdfjs-canvas-preview-renderer.js';
import { createProviderObjectStores } from '../../shared/adapters/provider-object-stores.js';
import { createS3Client, createS3ObjectStore } from '../../shared/adapters/s3-object-store.js';
import { createSecretsManagerSecretStore } from '../../shared/adapters/secrets-manager-secret-store.js';
import { createUlidGenerator } from '../../shared/adapters/ulid-id-generator.js';
import { DEFAULT_PROVIDER_ID } from '../../shared/domain/ids.js';
import type { Provider } from '../../shared/domain/model.js';
import { type Clock, systemClock } from '../../shared/ports/clock.js';
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
}

/** The composition root shared by every entry point: SDK clients and adapters, built once. */
export function compose(config: StowageConfig, overrides: { clock?: Clock; logger?: Logger } = {}): App {
  const logger = overrides.logger ?? createJsonLogger({ service: 'stowage' });
  const dynamo = new DynamoDBClient({
    region: config.region,
    ...(config.dynamo.endpoint ? { endpoint: config.dynamo.endpoint } : {}),
    ...(config.dynamo.credentials ? { credentials: config.dynamo.credentials } : {}),
  });
  const metadata = createDynamoMetadataStore({
    client: DynamoDBDocumentClient.from(dynamo, { marshallOptions: { removeUndefinedValues: true } }),
    tableName: config.tableName,
  });
  const s3 = createS3Client({
    region: config.region,
    endpoint: config.s3.endpoint ?? undefined,
    forcePathStyle: config.s3.forcePathStyle,
    credentials: config.s3.credentials ?? undefined,
    embedded: config.s3.embedded,
  });
  const secrets =
    config.secrets.kind === 'secrets-manager'
      ? createSecretsManagerSecretStore({
          client: new SecretsManagerClient({ region: config.region }),
          prefix: config.secrets.prefix,
        })
      : createLocalSecretStore({ dataDir: config.secrets.dataDir, keyBase64: config.secrets.keyBase64 });
  const stores = createProviderObjectStores({
    defaultStore: createS3ObjectStore({ client: s3, bucket: config.uploadsBucket }),
    providers: metadata.providers,
    secrets,
  });
  const previewScheduler =
    config.previews.ahead === 'in-process' ? createInProcessPreviewScheduler({ logger }) : null;
  const deps: ServiceDeps = {
    metadata,
    stores,
    secrets,
    clock: overrides.clock ?? systemClock,
    ids: createUlidGenerator(),
    logger,
    settings: {
      maxFileSize: config.limits.maxFileSize,
      multipartThreshold: config.limits.multipartThreshold,
      minPartSize: config.limits.minPartSize,
      uploadUrlTtlSeconds: config.limits.uploadUrlTtlSeconds,
      downloadUrlTtlSeconds: config.limits.downloadUrlTtlSeconds,
      quarantineRejected: config.quarantineRejected,
      verifyChecksumByReading: config.s3.embedded,
      sniffBytes: 4100,
    },
    previews: {
      renderer: previewRenderer(config, logger),
      // The cache bucket, through the deployment's own client (the uploads bucket when unset).
      cache: createS3ObjectStore({ client: s3, bucket: config.previewBucket }),
      scheduler: previewScheduler ?? undefined,
      settings: {
        width: config.previews.width,
        maxAgeMs: config.previews.maxAgeMs,
        maxCacheBytes: config.previews.maxCacheBytes,
        urlTtlSeconds: config.limits.downloadUrlTtlSeconds,
        retryAfterSeconds: 1,
      },
    },
  };
  const services = createServices(deps, defaultProvider(config));
  previewScheduler?.connect((tenantId, fileId) => services.previews.renderAhead(tenantId, fileId));
  return { config, services, metadata, logger, deps, previewScheduler };
}

export const composeFromEnv = (env: NodeJS.ProcessEnv) => compose(readConfig(env));

function previewRenderer(config: StowageConfig, logger: Logger) {
  const { maxSourceBytes, renderTimeoutMs: timeoutMs } = config.previews;
  if (config.previews.isolation === 'none')
    return createPdfjsCanvasPreviewRenderer({ maxSourceBytes, timeoutMs });
  return createIsolatedPreviewRenderer({
    logger,
    maxSourceBytes,
    timeoutMs,
    processes: config.previews.renderProcesses,
    hostModule: config.previews.hostModule ?? undefined,
  });
}

function defaultProvider(config: StowageConfig): Provider {
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
