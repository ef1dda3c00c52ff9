import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type {
  APIGatewayProxyEventV2WithJWTAuthorizer,
  Context,
  SQSBatchResponse,
  SQSEvent,
} from 'aws-lambda';
import { inject } from 'vitest';
import { makeApiHandler } from '../../../functions/api/handler.js';
import { compose, defaultProvider } from '../../../functions/lib/compose.js';
import { readConfig, type StowageConfig } from '../../../functions/lib/config.js';
import { makeMaintenanceHandler } from '../../../functions/maintenance/handler.js';
import { makeProcessUploadHandler } from '../../../functions/process-upload/handler.js';
import { dnsHostResolver } from '../../../shared/adapters/dns-host-resolver.js';
import { createDynamoMetadataStore } from '../../../shared/adapters/dynamodb/create-dynamo-metadata-store.js';
import { ensureTable } from '../../../shared/adapters/dynamodb/table-definition.js';
import { createGuardedAgents } from '../../../shared/adapters/guarded-http.js';
import { createLocalSecretStore } from '../../../shared/adapters/local-secret-store.js';
import { createProviderObjectStores } from '../../../shared/adapters/provider-object-stores.js';
import { createS3Client, createS3ObjectStore } from '../../../shared/adapters/s3-object-store.js';
import { createUlidGenerator } from '../../../shared/adapters/ulid-id-generator.js';
import type { Actor } from '../../../shared/domain/model.js';
import { type Clock, systemClock } from '../../../shared/ports/clock.js';
import type { Logger } from '../../../shared/ports/logger.js';
import { silentLogger } from '../../../shared/ports/logger.js';
import type { ObjectStore } from '../../../shared/ports/object-store.js';
import type { MetadataStore } from '../../../shared/ports/repositories.js';
import type { ConsistencyReport } from '../../../shared/services/consistency-service.js';
import { createServices, type ServiceDeps, type Services } from '../../../shared/services/index.js';
import type { MaintenanceReport } from '../../../shared/services/maintenance-service.js';
import { stackDynamoCredentials } from '../dynamo.js';
import { createStoreBucket, storeBucket } from '../second-app.js';
import { FaultInjector } from './fault-injector.js';

/**
 * What one test file of fault scenarios shares: its own uploads bucket and table in the running
 * stack's servers (so the stack's event queue never touches its objects, and a maintenance run
 * never reaches other files' data), the deployment settings as compose() derives them, and clean
 * clients to look at what storage really holds.
 */
export interface FaultStack {
  config: StowageConfig;
  uploadsBucket: string;
  tableName: string;
  settings: ServiceDeps['settings'];
  /** Clean (fault-free) access to the table and the bucket, for consistency checks. */
  doc: DynamoDBDocumentClient;
  store: ObjectStore;
  /** A fresh table: a maintenance run scans its whole table, so a scenario that runs one has its own. */
  newTable(): Promise<string>;
  /** The HTTP API handler (middy), built once: it serves the app whose `api` is calling it. */
  api: ReturnType<typeof makeApiHandler>;
  /** Which app's services and logger `api` uses, for the duration of one call. */
  serving: AsyncLocalStorage<{ services: Services; logger: Logger }>;
}

export async function createFaultStack(label: string): Promise<FaultStack> {
  const stack = inject('stackConfig');
  const dynamoEndpoint = inject('dynamoEndpoint');
  const admin = dynamoAdmin();
  const newTable = async () => {
    const name = `stowage-${label}-${randomBytes(4).toString('hex')}`;
    await ensureTable(admin, name);
    return name;
  };
  const [uploadsBucket, tableName, dataDir] = await Promise.all([
    createStoreBucket(`stowage-${label}`),
    newTable(),
    mkdtemp(join(tmpdir(), `stowage-${label}-`)),
  ]);
  const config = readConfig({
    TABLE_NAME: tableName,
    UPLOADS_BUCKET: uploadsBucket,
    S3_ENDPOINT: inject('s3Endpoint'),
    S3_ACCESS_KEY_ID: stack.s3AccessKeyId,
    S3_SECRET_ACCESS_KEY: stack.s3SecretAccessKey,
    DYNAMODB_ENDPOINT: dynamoEndpoint,
    DYNAMODB_ACCESS_KEY_ID: stackDynamoCredentials().accessKeyId,
    DYNAMODB_SECRET_ACCESS_KEY: stackDynamoCredentials().secretAccessKey,
    FILESTORE_DATA_DIR: dataDir,
    PREVIEW_AHEAD: 'off',
  });
  // The deployment's settings exactly as the composition root derives them from this config.
  const { settings } = compose(config, { logger: silentLogger }).deps;
  // Building the router (its OpenAPI document) costs more than a scenario's own work: one
  // handler serves every app, each call reaching the services of the app that made it.
  const serving = new AsyncLocalStorage<{ services: Services; logger: Logger }>();
  const current = () => {
    const app = serving.getStore();
    if (!app) throw new Error('The fault stack API was called outside FaultyApp.api.');
    return app;
  };
  const api = makeApiHandler({
    services: new Proxy({} as Services, { get: (_, name) => current().services[name as keyof Services] }),
    claimNames: config.jwt,
    logger: {
      info: (message, fields) => current().logger.info(message, fields),
      warn: (message, fields) => current().logger.warn(message, fields),
      error: (message, fields) => current().logger.error(message, fields),
    },
  });
  return {
    config,
    uploadsBucket,
    tableName,
    settings,
    doc: DynamoDBDocumentClient.from(admin),
    store: storeBucket(uploadsBucket),
    newTable,
    api,
    serving,
  };
}

function dynamoAdmin() {
  return new DynamoDBClient({
    region: 'us-east-1',
    endpoint: inject('dynamoEndpoint'),
    credentials: stackDynamoCredentials(),
  });
}

export interface LoggedError {
  message: string;
  fields?: Record<string, unknown>;
}

export interface ApiAnswer {
  status: number;
  body: any;
  /** The raw body text, to look for leaked causes. */
  text: string;
}

/** One composition of the service whose SDK clients carry a fault injector. */
export interface FaultyApp {
  faults: FaultInjector;
  /** The app's real DynamoDB client, for tests that watch what it reads. */
  dynamo: DynamoDBClient;
  services: Services;
  deps: ServiceDeps;
  metadata: MetadataStore;
  tableName: string;
  /** Errors the app logged (the API's `request failed`, validation's `rejected object not removed`...). */
  errors: LoggedError[];
  /** The HTTP API handler (middy), called in process with an API Gateway v2 event. */
  api(actor: Actor, method: string, path: string, body?: unknown): Promise<ApiAnswer>;
  processUpload(event: SQSEvent): Promise<SQSBatchResponse>;
  /** The scheduled maintenance run. */
  maintenance(): Promise<MaintenanceReport>;
  /** The maintenance handler in report mode: the consistency check of one tenant. */
  check(tenantId: string): Promise<ConsistencyReport>;
  destroy(): void;
}

/**
 * Composes the service like `compose()` does where no tenant role is configured (the local
 * stack: every tenant's calls resolve to the process's own clients), with the same client
 * options (DynamoDB's default retry strategy; the production `createS3Client` with its adaptive
 * one), adapters and use cases, from clients built here so the injector can be attached to them.
 * In AWS each tenant gets clients built with these same options. Previews are left out: their
 * faults are not what these scenarios are about.
 */
export function composeFaultyApp(
  stack: FaultStack,
  opts: { tableName?: string; clock?: Clock } = {},
): FaultyApp {
  const { config } = stack;
  const tableName = opts.tableName ?? stack.tableName;
  const errors: LoggedError[] = [];
  const logger: Logger = {
    info() {},
    warn() {},
    error: (message, fields) => errors.push({ message, fields }),
  };
  const faults = new FaultInjector();
  const dynamo = new DynamoDBClient({
    region: config.region,
    ...(config.dynamo.endpoint ? { endpoint: config.dynamo.endpoint } : {}),
    ...(config.dynamo.credentials ? { credentials: config.dynamo.credentials } : {}),
  });
  faults.attachDynamo(dynamo);
  const s3 = createS3Client({
    region: config.region,
    endpoint: config.s3.endpoint ?? undefined,
    forcePathStyle: config.s3.forcePathStyle,
    credentials: config.s3.credentials ?? undefined,
  });
  faults.attachS3(s3);
  const metadata = createDynamoMetadataStore({
    client: DynamoDBDocumentClient.from(dynamo, { marshallOptions: { removeUndefinedValues: true } }),
    tableName,
  });
  const secrets = createLocalSecretStore({
    dataDir: (config.secrets as { dataDir: string }).dataDir,
    keyBase64: null,
  });
  const stores = createProviderObjectStores({
    defaultStore: createS3ObjectStore({ client: s3, bucket: config.uploadsBucket }),
    providers: metadata.providers,
    secrets,
    agents: createGuardedAgents({
      allowedOrigins: stack.settings.allowedEndpoints ?? [],
      resolver: dnsHostResolver,
    }),
  });
  const deps: ServiceDeps = {
    metadata,
    stores,
    secrets,
    clock: opts.clock ?? systemClock,
    ids: createUlidGenerator(),
    logger,
    resolver: dnsHostResolver,
    settings: stack.settings,
  };
  const services = createServices(deps, defaultProvider(config));
  const processUpload = makeProcessUploadHandler({ validation: services.validation, logger });
  const maintenance = makeMaintenanceHandler({
    maintenance: services.maintenance,
    consistency: services.consistency,
  });

  return {
    faults,
    dynamo,
    services,
    deps,
    metadata,
    tableName,
    errors,
    async api(actor, method, path, body) {
      const event = apiEvent(config.jwt, actor, method, path, body);
      const result = await stack.serving.run({ services, logger }, () => stack.api(event, lambdaContext()));
      const text = typeof result.body === 'string' ? result.body : '';
      return { status: result.statusCode ?? 200, body: text ? JSON.parse(text) : undefined, text };
    },
    processUpload,
    maintenance: () => maintenance(),
    check: (tenantId) => maintenance({ check: { tenantId } }),
    destroy() {
      dynamo.destroy();
      s3.destroy();
    },
  };
}

/** The API Gateway v2 event the JWT authorizer hands the function for this caller. */
function apiEvent(
  claimNames: StowageConfig['jwt'],
  actor: Actor,
  method: string,
  path: string,
  body: unknown,
): APIGatewayProxyEventV2WithJWTAuthorizer {
  const now = new Date();
  const [rawPath = path, rawQueryString = ''] = path.split('?');
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath,
    rawQueryString,
    headers: { 'content-type': 'application/json' },
    isBase64Encoded: false,
    body: body === undefined ? undefined : JSON.stringify(body),
    requestContext: {
      accountId: 'faults',
      apiId: 'faults',
      domainName: 'faults.local',
      domainPrefix: 'faults',
      http: { method, path: rawPath, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'faults' },
      requestId: randomBytes(8).toString('hex'),
      routeKey: '$default',
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
      authorizer: {
        principalId: actor.userId,
        integrationLatency: 0,
        jwt: {
          // As API Gateway passes them: strings, an array flattened to `[a b]`.
          claims: {
            sub: actor.userId,
            [claimNames.tenantClaim]: actor.tenantId,
            [claimNames.rolesClaim]: `[${actor.roles.join(' ')}]`,
          },
          scopes: [],
        },
      },
    },
  } as APIGatewayProxyEventV2WithJWTAuthorizer;
}

function lambdaContext(): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'stowage-api-faults',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:stowage-api-faults',
    memoryLimitInMB: '1024',
    awsRequestId: randomBytes(8).toString('hex'),
    logGroupName: 'faults',
    logStreamName: 'faults',
    getRemainingTimeInMillis: () => 30_000,
    done() {},
    fail() {},
    succeed() {},
  };
}
