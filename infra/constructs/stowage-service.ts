import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ArnFormat, Duration, RemovalPolicy, Size, Stack } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { API_CORS } from '../../functions/api/cors-policy.js';
import {
  GLOBAL_SECONDARY_INDEXES,
  KEY_ATTRIBUTES,
  TTL_ATTRIBUTE,
} from '../../shared/adapters/dynamodb/table-definition.js';
import { tenantSessionPolicy } from '../../shared/adapters/tenant-scope/tenant-session-policy.js';
import { objectKeys } from '../../shared/domain/keys.js';
import { ROLES } from '../../shared/domain/model.js';
import { previewLifecycleDays } from '../../shared/domain/preview.js';
import { deployedRoutes } from './api-routes.js';
import {
  functionEnvironment,
  previewSchedulingEnvironment,
  tenantIsolationEnvironment,
} from './function-environment.js';
import { acknowledge, nagResource } from './nag-acknowledgements.js';
import { grantListBucket, grantObjects, type ObjectAction } from './object-grants.js';
import { PreviewRendererLayer } from './preview-renderer-layer.js';
import { ServiceMonitoring } from './service-monitoring.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** One Lambda per entry point in functions/ (test/unit/infra checks the folder against this list). */
export const FUNCTION_ENTRIES = {
  api: 'functions/api/handler.ts',
  processUpload: 'functions/process-upload/handler.ts',
  maintenance: 'functions/maintenance/handler.ts',
  renderPreview: 'functions/render-preview/handler.ts',
} as const;

/** Key roots of shared/domain/keys.ts: every tenant's objects, and the quarantine. */
const TENANTS_ROOT = objectKeys.tenantsRoot;
const QUARANTINE_ROOT = objectKeys.quarantineRoot;

/**
 * The tenant a tenant-scoped STS session was opened for: the `tenant` session tag that
 * shared/adapters/tenant-scope/tenant-credentials.ts sets, as an IAM policy variable.
 */
// biome-ignore lint/suspicious/noTemplateCurlyInString: IAM's own variable syntax, not a template.
export const TENANT_TAG_VARIABLE = '${aws:PrincipalTag/tenant}';

/**
 * Left out of the bundles: see BUNDLING. playwright-core and @sparticuz/chromium (the browser
 * that draws SVG, text and HTML) are not in the render layer yet: without them a function
 * finds no Chromium and answers those types 415.
 */
export const PREVIEW_RENDERER_MODULES = [
  '@napi-rs/canvas',
  'pdfjs-dist',
  'sharp',
  'playwright-core',
  '@sparticuz/chromium',
] as const;

/** How many times SQS hands a message to process-upload before parking it in the DLQ. */
export const MAX_RECEIVE_COUNT = 5;

/**
 * esbuild, locally (no Docker), one minified ES module per function holding only what it
 * imports. The AWS SDK is bundled, not taken from the runtime, so the deployed code runs the
 * pinned SDK the tests ran (presigning and checksum defaults differ between SDK versions).
 */
const BUNDLING: nodejs.BundlingOptions = {
  format: nodejs.OutputFormat.ESM,
  target: 'node22',
  minify: true,
  sourceMap: false,
  mainFields: ['module', 'main'],
  bundleAwsSDK: true,
  // The preview renderer loads these lazily (dynamic import), only in its render host process.
  // @napi-rs/canvas is a native addon esbuild cannot bundle: the render function gets both, for
  // linux-arm64, from its layer (PreviewRendererLayer); no other function draws.
  externalModules: [...PREVIEW_RENDERER_MODULES],
  // CommonJS parts of the bundle (some SDK dependencies) require() Node built-ins; ES modules
  // have no `require`, so give the bundle one.
  banner:
    "import { createRequire as __stowageCreateRequire } from 'node:module'; const require = __stowageCreateRequire(import.meta.url);",
  logLevel: nodejs.LogLevel.WARNING,
};

export interface StowageServiceProps {
  /**
   * The OIDC issuer whose tokens the API accepts, e.g. a Cognito pool's
   * `https://cognito-idp.{region}.amazonaws.com/{userPoolId}`. Give it together with `jwtAudience`.
   *
   * @default - a Cognito user pool is created, with an app client as the audience
   */
  readonly jwtIssuer?: string;
  /**
   * Accepted `aud` (or, for access tokens, `client_id`) values.
   *
   * @default - the created user pool's app client id
   */
  readonly jwtAudience?: string[];
  /**
   * The claim that holds the tenant id (`JWT_TENANT_CLAIM`).
   *
   * @default 'tenant_id' with `jwtIssuer`; 'custom:tenant_id' with the created user pool
   */
  readonly tenantClaim?: string;
  /**
   * The claim that holds the roles (`JWT_ROLES_CLAIM`).
   *
   * @default 'roles' with `jwtIssuer`; 'cognito:groups' with the created user pool
   */
  readonly rolesClaim?: string;
  /**
   * Origins allowed to call the API and to send bytes to, or fetch them from, the buckets.
   *
   * @default ['*'] - tokens travel in the Authorization header, never in cookies
   */
  readonly allowedOrigins?: string[];
  /**
   * Default throttling of every API route; above it API Gateway answers 429.
   *
   * @default { rateLimit: 100, burstLimit: 200 }
   */
  readonly throttle?: apigwv2.ThrottleSettings;
  /**
   * The ceiling of any bucket's `maxFileSize` (`FILESTORE_MAX_FILE_SIZE`).
   *
   * @default Size.gibibytes(5)
   */
  readonly maxFileSize?: Size;
  /**
   * How long a rendered preview is kept (`PREVIEW_CACHE_MAX_AGE`); the cache bucket's lifecycle
   * rule expires objects after this, rounded up to whole days.
   *
   * @default Duration.days(7)
   */
  readonly previewCacheMaxAge?: Duration;
  /**
   * Per-tenant byte cap of the preview cache (`PREVIEW_CACHE_MAX_SIZE`).
   *
   * @default Size.gibibytes(5)
   */
  readonly previewCacheMaxSize?: Size;
  /**
   * Move rejected uploads under `quarantine/` for inspection instead of deleting them.
   *
   * @default true
   */
  readonly quarantineRejected?: boolean;
  /**
   * How long quarantined objects are kept.
   *
   * @default Duration.days(30)
   */
  readonly quarantineRetention?: Duration;
  /**
   * How long the bytes of an overwritten or deleted (purged) object stay recoverable as a
   * noncurrent version of the versioned uploads bucket.
   *
   * @default Duration.days(7)
   */
  readonly noncurrentVersionRetention?: Duration;
  /**
   * How long S3 server access logs are kept.
   *
   * @default Duration.days(90)
   */
  readonly accessLogRetention?: Duration;
  /**
   * Retention of the functions' logs and the API access logs.
   *
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * What happens to buckets, table, user pool and log groups when they leave the stack.
   * `DESTROY` also empties the buckets on deletion; anything else keeps them and turns on
   * deletion protection for the table and the user pool.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * `KMS` creates a customer managed key (rotated yearly, about 1 USD a month) for the buckets
   * and the table.
   *
   * @default 'S3_MANAGED' - SSE-S3 for the buckets, an AWS owned key for the table
   */
  readonly encryption?: 'S3_MANAGED' | 'KMS';
  /**
   * Where alarms go.
   *
   * @default - a new SNS topic (subscribe to it after deployment)
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * When the maintenance sweep runs.
   *
   * @default events.Schedule.rate(Duration.hours(1))
   */
  readonly maintenanceSchedule?: events.Schedule;
  /**
   * Secrets Manager name prefix for provider credentials (`SECRETS_PREFIX`); a secret is named
   * `{prefix}/{tenantId}/providers/{providerId}`.
   *
   * @default `stowage/{stack name}`
   */
  readonly secretsPrefix?: string;
  /**
   * Memory of each function, in MiB (CPU grows with it).
   *
   * @default 512
   */
  readonly memorySize?: number;
  /**
   * X-Ray tracing of the functions.
   *
   * @default lambda.Tracing.DISABLED
   */
  readonly tracing?: lambda.Tracing;
  /**
   * The second wall (issue 5): the API, process-upload and render functions hold no data
   * permissions of their own; each request's S3, DynamoDB and Secrets Manager calls run in an
   * STS session of the `TenantAccessRole`, tagged with the tenant and narrowed to it by a session
   * policy. Off: those functions get the same data permissions directly (tenant prefixes only).
   *
   * @default true
   */
  readonly tenantIsolation?: boolean;
  /**
   * Memory of the preview render function, in MiB. A warm render takes 50-100 ms and the render
   * process peaks near 110 MB on ordinary files; 1024 MiB (about 0.6 vCPU) keeps renders near
   * that time and leaves room for the worst input the limits admit (a 100 MiB source held by
   * both processes, a 50-megapixel image decoded).
   *
   * @default 1024
   */
  readonly previewRenderMemorySize?: number;
  /**
   * Reserved concurrency of the render function: at most this many renders at once. Asynchronous
   * invocations above it wait in Lambda's queue (up to an hour). Reserving needs 100 unreserved
   * executions left in the account: new accounts with a limit of 10 must raise it first.
   *
   * @default 10
   */
  readonly previewRenderConcurrency?: number;
}

/**
 * The whole Stowage service: storage, metadata table, the four functions, the HTTP API,
 * upload events and operations, with secure defaults. Business rules live in functions/ and
 * shared/; this construct only wires them.
 */
export class StowageService extends Construct {
  public readonly accessLogBucket: s3.Bucket;
  public readonly uploadsBucket: s3.Bucket;
  public readonly previewBucket: s3.Bucket;
  public readonly encryptionKey?: kms.Key;
  public readonly table: dynamodb.Table;
  public readonly apiFunction: nodejs.NodejsFunction;
  public readonly processUploadFunction: nodejs.NodejsFunction;
  public readonly maintenanceFunction: nodejs.NodejsFunction;
  /** Draws previews (PDF first pages, image thumbnails) into the cache, invoked asynchronously. */
  public readonly renderPreviewFunction: nodejs.NodejsFunction;
  public readonly previewRenderer: PreviewRendererLayer;
  /** The role tenant-scoped sessions are opened on; absent when `tenantIsolation` is off. */
  public readonly tenantAccessRole?: iam.Role;
  public readonly httpApi: apigwv2.HttpApi;
  public readonly apiStage: apigwv2.HttpStage;
  public readonly uploadEventsQueue: sqs.Queue;
  public readonly uploadEventsDeadLetterQueue: sqs.Queue;
  public readonly maintenanceRule: events.Rule;
  public readonly userPool?: cognito.UserPool;
  public readonly userPoolClient?: cognito.UserPoolClient;
  public readonly jwtIssuer: string;
  public readonly tenantClaim: string;
  public readonly rolesClaim: string;
  public readonly secretsPrefix: string;
  public readonly monitoring: ServiceMonitoring;

  private readonly removalPolicy: RemovalPolicy;
  private readonly logRetention: logs.RetentionDays;

  constructor(scope: Construct, id: string, props: StowageServiceProps = {}) {
    super(scope, id);
    if ((props.jwtIssuer === undefined) !== (props.jwtAudience === undefined))
      throw new Error(
        'StowageService: give jwtIssuer and jwtAudience together, or neither to create a Cognito user pool.',
      );
    if (props.jwtAudience?.length === 0)
      throw new Error('StowageService: jwtAudience needs at least one value.');
    this.removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;
    const destroy = this.removalPolicy === RemovalPolicy.DESTROY;
    const allowedOrigins = props.allowedOrigins ?? ['*'];
    const previewCacheMaxAge = props.previewCacheMaxAge ?? Duration.days(7);
    if (previewCacheMaxAge.toMilliseconds() < 1)
      throw new Error('StowageService: previewCacheMaxAge must be at least 1 ms.');
    this.secretsPrefix = props.secretsPrefix ?? `stowage/${Stack.of(this).stackName}`;

    // ---- storage ----
    if (props.encryption === 'KMS') {
      this.encryptionKey = new kms.Key(this, 'Key', {
        description: 'Stowage: uploads, previews and metadata',
        enableKeyRotation: true,
        removalPolicy: this.removalPolicy,
      });
    }
    const bucketDefaults = {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: this.removalPolicy,
      autoDeleteObjects: destroy,
    } satisfies s3.BucketProps;
    const dataEncryption: Pick<s3.BucketProps, 'encryption' | 'encryptionKey' | 'bucketKeyEnabled'> = this
      .encryptionKey
      ? { encryption: s3.BucketEncryption.KMS, encryptionKey: this.encryptionKey, bucketKeyEnabled: true }
      : { encryption: s3.BucketEncryption.S3_MANAGED };

    this.accessLogBucket = new s3.Bucket(this, 'AccessLogs', {
      ...bucketDefaults,
      // S3 server access logging delivers only to SSE-S3 buckets.
      encryption: s3.BucketEncryption.S3_MANAGED,
      lifecycleRules: [
        { id: 'expire-access-logs', expiration: props.accessLogRetention ?? Duration.days(90) },
      ],
    });

    this.uploadsBucket = new s3.Bucket(this, 'Uploads', {
      ...bucketDefaults,
      ...dataEncryption,
      versioned: true,
      serverAccessLogsBucket: this.accessLogBucket,
      serverAccessLogsPrefix: 'uploads/',
      cors: [
        {
          // Browsers PUT or POST the bytes with presigned requests, PUT multipart parts and read
          // each part's ETag to complete the upload.
          allowedMethods: [s3.HttpMethods.PUT, s3.HttpMethods.POST, s3.HttpMethods.GET, s3.HttpMethods.HEAD],
          allowedOrigins,
          allowedHeaders: ['*'],
          exposedHeaders: ['ETag'],
          maxAge: 3600,
        },
      ],
      lifecycleRules: [
        { id: 'abort-incomplete-multipart-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
        {
          id: 'expire-noncurrent-versions',
          noncurrentVersionExpiration: props.noncurrentVersionRetention ?? Duration.days(7),
          expiredObjectDeleteMarker: true,
        },
        {
          id: 'expire-quarantine',
          prefix: QUARANTINE_ROOT,
          expiration: props.quarantineRetention ?? Duration.days(30),
        },
      ],
    });

    this.previewBucket = new s3.Bucket(this, 'PreviewCache', {
      ...bucketDefaults,
      ...dataEncryption,
      // Renders can be redrawn from their source file: no versions to keep.
      versioned: false,
      serverAccessLogsBucket: this.accessLogBucket,
      serverAccessLogsPrefix: 'previews/',
      cors: [
        {
          allowedMethods: [s3.HttpMethods.GET, s3.HttpMethods.HEAD],
          allowedOrigins,
          allowedHeaders: ['*'],
          maxAge: 3600,
        },
      ],
      lifecycleRules: [
        {
          id: 'expire-previews',
          expiration: Duration.days(previewLifecycleDays(previewCacheMaxAge.toMilliseconds())),
        },
        { id: 'abort-incomplete-multipart-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
    });

    // ---- metadata ----
    const str = dynamodb.AttributeType.STRING;
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: KEY_ATTRIBUTES.pk, type: str },
      sortKey: { name: KEY_ATTRIBUTES.sk, type: str },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: TTL_ATTRIBUTE,
      ...(this.encryptionKey
        ? { encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED, encryptionKey: this.encryptionKey }
        : { encryption: dynamodb.TableEncryption.DEFAULT }),
      deletionProtection: !destroy,
      removalPolicy: this.removalPolicy,
    });
    for (const index of GLOBAL_SECONDARY_INDEXES) {
      this.table.addGlobalSecondaryIndex({
        indexName: index.indexName,
        partitionKey: { name: index.partitionKey, type: str },
        sortKey: { name: index.sortKey, type: str },
        projectionType: dynamodb.ProjectionType.ALL,
      });
    }

    // ---- identity ----
    if (props.jwtIssuer && props.jwtAudience) {
      this.jwtIssuer = props.jwtIssuer;
      this.tenantClaim = props.tenantClaim ?? 'tenant_id';
      this.rolesClaim = props.rolesClaim ?? 'roles';
    } else {
      this.userPool = this.createUserPool(destroy);
      this.userPoolClient = this.userPool.addClient('ApiClient', {
        authFlows: { userSrp: true },
        generateSecret: false,
        preventUserExistenceErrors: true,
        enableTokenRevocation: true,
        idTokenValidity: Duration.hours(1),
        accessTokenValidity: Duration.hours(1),
        refreshTokenValidity: Duration.days(30),
        readAttributes: new cognito.ClientAttributes()
          .withStandardAttributes({ email: true, emailVerified: true })
          .withCustomAttributes('tenant_id'),
        // The tenant is set by an administrator (AdminCreateUser), never by the user.
        writeAttributes: new cognito.ClientAttributes().withStandardAttributes({ email: true }),
      });
      this.jwtIssuer = this.userPool.userPoolProviderUrl;
      // Cognito puts custom attributes and groups into ID tokens: clients send the ID token.
      this.tenantClaim = props.tenantClaim ?? 'custom:tenant_id';
      this.rolesClaim = props.rolesClaim ?? 'cognito:groups';
    }
    const jwtAudience = props.jwtAudience ?? [this.userPoolClient?.userPoolClientId as string];

    // ---- functions ----
    const quarantineRejected = props.quarantineRejected ?? true;
    const tenantIsolation = props.tenantIsolation ?? true;
    const environment = functionEnvironment({
      tableName: this.table.tableName,
      uploadsBucket: this.uploadsBucket.bucketName,
      previewBucket: this.previewBucket.bucketName,
      secretsPrefix: this.secretsPrefix,
      tenantClaim: this.tenantClaim,
      rolesClaim: this.rolesClaim,
      maxFileSizeBytes: (props.maxFileSize ?? Size.gibibytes(5)).toBytes(),
      quarantineRejected,
      previewCacheMaxAgeMs: previewCacheMaxAge.toMilliseconds(),
      previewCacheMaxSizeBytes: (props.previewCacheMaxSize ?? Size.gibibytes(5)).toBytes(),
    });
    const common = { environment, memorySize: props.memorySize ?? 512, tracing: props.tracing };
    this.previewRenderer = new PreviewRendererLayer(this, 'PreviewRenderer');
    // Measured (issue 4 notes): warm renders 50-100 ms, a cold render host ~0.35 s, peak ~110 MB.
    // 60 s covers the 20 s hard render limit (PREVIEW_RENDER_TIMEOUT_MS), reading a 100 MiB
    // source and a cold start, three times over.
    this.renderPreviewFunction = this.createFunction('RenderPreview', FUNCTION_ENTRIES.renderPreview, {
      environment: {
        ...environment,
        PREVIEW_AHEAD: 'off',
        PREVIEW_HOST_MODULE: this.previewRenderer.hostModule,
      },
      memorySize: props.previewRenderMemorySize ?? 1024,
      timeout: Duration.seconds(60),
      tracing: props.tracing,
      layers: [this.previewRenderer.layer],
      reservedConcurrentExecutions: props.previewRenderConcurrency ?? 10,
    });
    this.renderPreviewFunction.configureAsyncInvoke({
      // A render that fails is recorded as failed, and one that times out would time out again;
      // throttled events are still retried by Lambda, until they are an hour old.
      retryAttempts: 0,
      maxEventAge: Duration.hours(1),
    });
    const renderFunctionName = this.renderPreviewFunction.functionName;
    this.apiFunction = this.createFunction('Api', FUNCTION_ENTRIES.api, {
      ...common,
      // The API ships no renderer: a preview miss is answered 202 and drawn by the render function.
      environment: {
        ...environment,
        ...previewSchedulingEnvironment({ renderFunctionName, onDemand: 'schedule' }),
      },
      // API Gateway gives up after 30 s; a request does metadata work and presigning only.
      timeout: Duration.seconds(15),
    });
    this.processUploadFunction = this.createFunction('ProcessUpload', FUNCTION_ENTRIES.processUpload, {
      ...common,
      environment: {
        ...environment,
        ...previewSchedulingEnvironment({ renderFunctionName, onDemand: 'render' }),
      },
      timeout: Duration.seconds(60),
    });
    this.maintenanceFunction = this.createFunction('Maintenance', FUNCTION_ENTRIES.maintenance, {
      ...common,
      timeout: Duration.minutes(5),
    });

    // ---- permissions: only what each function's code calls ----
    const secretsArnPrefix = Stack.of(this).formatArn({
      service: 'secretsmanager',
      resource: 'secret',
      resourceName: this.secretsPrefix,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    const secretsArn = `${secretsArnPrefix}/*`;
    // Both schedule renders, with their own role: the invocation is not tenant data.
    for (const fn of [this.apiFunction, this.processUploadFunction]) {
      iam.Grant.addToPrincipal({
        grantee: fn,
        actions: ['lambda:InvokeFunction'],
        resourceArns: [this.renderPreviewFunction.functionArn],
      });
    }
    const tenantScoped = [this.apiFunction, this.processUploadFunction, this.renderPreviewFunction];
    if (tenantIsolation) {
      // Everything these three do with data runs in a tenant scope (the API router wraps every
      // route, process-upload each object's validation, render-preview each render), so their
      // own roles keep no data permission at all.
      this.tenantAccessRole = this.createTenantAccessRole(tenantScoped, secretsArnPrefix, quarantineRejected);
      const isolationEnvironment = tenantIsolationEnvironment({
        roleArn: this.tenantAccessRole.roleArn,
        tableArn: this.table.tableArn,
        secretsArnPrefix,
        kmsKeyArn: this.encryptionKey?.keyArn,
      });
      for (const fn of tenantScoped)
        for (const [name, value] of Object.entries(isolationEnvironment)) fn.addEnvironment(name, value);
    } else {
      this.grantDirectData({ secretsArn, quarantineRejected });
    }
    this.grantMaintenanceData(secretsArn, quarantineRejected);
    this.acknowledgeScopedWildcards(secretsArnPrefix, quarantineRejected);

    // ---- API ----
    const authorizer = new HttpJwtAuthorizer('JwtAuthorizer', this.jwtIssuer, {
      jwtAudience,
      identitySource: ['$request.header.Authorization'],
    });
    this.httpApi = new apigwv2.HttpApi(this, 'HttpApi', {
      description: 'Stowage file storage API (API.md, version 1)',
      createDefaultStage: false,
      // Secure by default: a route added later without an explicit authorizer needs a token.
      defaultAuthorizer: authorizer,
      corsPreflight: {
        allowOrigins: allowedOrigins,
        allowMethods: API_CORS.allowMethods.map((method) => apigwv2.CorsHttpMethod[method]),
        allowHeaders: [...API_CORS.allowHeaders],
        exposeHeaders: [...API_CORS.exposeHeaders],
        maxAge: Duration.seconds(API_CORS.maxAgeSeconds),
      },
    });
    const accessLogs = this.createLogGroup('ApiAccessLogs');
    this.apiStage = new apigwv2.HttpStage(this, 'DefaultStage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      throttle: props.throttle ?? { rateLimit: 100, burstLimit: 200 },
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(accessLogs),
        format: apigw.AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            ip: '$context.identity.sourceIp',
            time: '$context.requestTime',
            method: '$context.httpMethod',
            path: '$context.path',
            routeKey: '$context.routeKey',
            status: '$context.status',
            responseLength: '$context.responseLength',
            latencyMs: '$context.responseLatency',
            integrationError: '$context.integrationErrorMessage',
            authorizerError: '$context.authorizer.error',
          }),
        ),
      },
    });
    // One integration and one invoke permission for all routes: a permission per route would
    // outgrow the function's 20 KB resource policy.
    const integration = new HttpLambdaIntegration('ApiIntegration', this.apiFunction, {
      scopePermissionToRoute: false,
    });
    const noAuthorizer = new apigwv2.HttpNoneAuthorizer();
    for (const route of deployedRoutes()) {
      const [created] = this.httpApi.addRoutes({
        path: route.path,
        methods: [apigwv2.HttpMethod[route.method]],
        integration,
        ...(route.authorized ? {} : { authorizer: noAuthorizer }),
      });
      if (!route.authorized && created)
        acknowledge(
          created,
          'AwsSolutions-APIG4',
          `${route.method} ${route.path} is public by API.md (health and the OpenAPI document).`,
        );
    }

    // ---- upload events ----
    this.uploadEventsDeadLetterQueue = new sqs.Queue(this, 'UploadEventsDlq', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.uploadEventsQueue = new sqs.Queue(this, 'UploadEvents', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // AWS's guidance for Lambda consumers: six times the function timeout, so a batch
      // retried by Lambda is not handed to a second consumer meanwhile.
      visibilityTimeout: Duration.seconds(
        6 * (this.processUploadFunction.timeout ?? Duration.seconds(3)).toSeconds(),
      ),
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.uploadEventsDeadLetterQueue, maxReceiveCount: MAX_RECEIVE_COUNT },
    });
    this.uploadsBucket.addEventNotification(
      s3.EventType.OBJECT_CREATED,
      new s3n.SqsDestination(this.uploadEventsQueue),
      { prefix: TENANTS_ROOT },
    );
    this.processUploadFunction.addEventSource(
      new SqsEventSource(this.uploadEventsQueue, { batchSize: 10, reportBatchItemFailures: true }),
    );
    this.acknowledgeNotificationsHandler();

    this.maintenanceRule = new events.Rule(this, 'MaintenanceSchedule', {
      description: 'Stowage maintenance: purge, sweep abandoned uploads',
      schedule: props.maintenanceSchedule ?? events.Schedule.rate(Duration.hours(1)),
      targets: [
        new targets.LambdaFunction(this.maintenanceFunction, {
          retryAttempts: 2,
          maxEventAge: Duration.hours(1),
        }),
      ],
    });

    // ---- operations ----
    this.monitoring = new ServiceMonitoring(this, 'Monitoring', {
      alarmTopic: props.alarmTopic,
      httpApi: this.httpApi,
      functions: {
        Api: this.apiFunction,
        ProcessUpload: this.processUploadFunction,
        Maintenance: this.maintenanceFunction,
      },
      // Throttling is its back-pressure (reserved concurrency): what matters is an event dropped.
      queuedFunctions: { RenderPreview: this.renderPreviewFunction },
      uploadValidators: [this.apiFunction, this.processUploadFunction],
      previewServers: [this.apiFunction],
      previewRenderers: [this.renderPreviewFunction],
      uploadEventsQueue: this.uploadEventsQueue,
      uploadEventsDeadLetterQueue: this.uploadEventsDeadLetterQueue,
    });
  }

  /** The API's base URL, e.g. `https://abc123.execute-api.eu-west-1.amazonaws.com/`. */
  public get apiUrl(): string {
    return this.apiStage.url;
  }

  public get alarmTopic(): sns.ITopic {
    return this.monitoring.alarmTopic;
  }

  private createLogGroup(id: string): logs.LogGroup {
    return new logs.LogGroup(this, id, { retention: this.logRetention, removalPolicy: this.removalPolicy });
  }

  private createFunction(
    id: string,
    entry: string,
    options: Pick<
      nodejs.NodejsFunctionProps,
      'environment' | 'memorySize' | 'timeout' | 'tracing' | 'layers' | 'reservedConcurrentExecutions'
    >,
  ): nodejs.NodejsFunction {
    const logGroup = this.createLogGroup(`${id}Logs`);
    // Our own role: logs scoped to this function's log group instead of the managed
    // AWSLambdaBasicExecutionRole policy, which allows writing to any log group.
    const role = new iam.Role(this, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Stowage ${id} function`,
    });
    logGroup.grantWrite(role);
    const fn = new nodejs.NodejsFunction(this, id, {
      ...options,
      description: `Stowage ${id} (${entry})`,
      entry: path.join(REPO_ROOT, entry),
      handler: 'handler',
      projectRoot: REPO_ROOT,
      depsLockFilePath: path.join(REPO_ROOT, 'package-lock.json'),
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      role,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      bundling: BUNDLING,
    });
    acknowledge(
      fn,
      'AwsSolutions-L1',
      'Node 22 on purpose: the code and its pinned dependencies are tested on Node 20 and 22, not 24.',
    );
    if (options.tracing === lambda.Tracing.ACTIVE) {
      acknowledge(
        role,
        'AwsSolutions-IAM5[Resource::*]',
        'X-Ray PutTraceSegments has no resource-level ARN.',
      );
    }
    return fn;
  }

  private createUserPool(destroy: boolean): cognito.UserPool {
    const pool = new cognito.UserPool(this, 'UserPool', {
      selfSignUpEnabled: false,
      signInAliases: { email: true },
      standardAttributes: { email: { required: true, mutable: true } },
      customAttributes: {
        tenant_id: new cognito.StringAttribute({ minLen: 1, maxLen: 64, mutable: false }),
      },
      passwordPolicy: {
        minLength: 12,
        requireDigits: true,
        requireLowercase: true,
        requireUppercase: true,
        requireSymbols: true,
      },
      mfa: cognito.Mfa.REQUIRED,
      mfaSecondFactor: { otp: true, sms: false },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      featurePlan: cognito.FeaturePlan.ESSENTIALS,
      deletionProtection: !destroy,
      removalPolicy: this.removalPolicy,
    });
    acknowledge(
      pool,
      'AwsSolutions-COG8',
      'Essentials tier: the Plus tier bills every monthly active user; choose it per deployment.',
    );
    for (const role of ROLES) {
      new cognito.CfnUserPoolGroup(this, `Group-${role}`, {
        userPoolId: pool.userPoolId,
        groupName: role,
        description: `Stowage role ${role} (API.md section 1), sent in cognito:groups`,
      });
    }
    return pool;
  }

  /**
   * The role of tenant-scoped sessions: assumable (with the `tenant` session tag) only by the
   * functions that work in a tenant scope, and holding, for the tenant it is tagged with, exactly
   * what `tenantSessionPolicy` allows: the same module writes both, with the tenant id replaced by
   * the tag variable. A session is the intersection of this and its session policy, so even one
   * opened without a session policy reaches a single tenant.
   */
  private createTenantAccessRole(
    callers: lambda.IFunction[],
    secretsArnPrefix: string,
    quarantine: boolean,
  ): iam.Role {
    const trusted = callers.map((fn) => (fn.role as iam.IRole).roleArn);
    const role = new iam.Role(this, 'TenantAccessRole', {
      description: 'Stowage: the data of one tenant, in STS sessions tagged with that tenant',
      // Role chaining from a Lambda role allows one hour at most.
      maxSessionDuration: Duration.hours(1),
      assumedBy: new iam.PrincipalWithConditions(
        new iam.SessionTagsPrincipal(
          new iam.CompositePrincipal(...trusted.map((arn) => new iam.ArnPrincipal(arn))),
        ),
        { Null: { 'aws:RequestTag/tenant': 'false' } },
      ),
    });
    const policy = tenantSessionPolicy(TENANT_TAG_VARIABLE, {
      tableArn: this.table.tableArn,
      uploadsBucketArn: this.uploadsBucket.bucketArn,
      previewBucketArn: this.previewBucket.bucketArn,
      secretsArnPrefix,
      kmsKeyArn: this.encryptionKey?.keyArn,
    });
    // Without the quarantine, nothing of a session reaches under quarantine/.
    const quarantined = (value: string) => value.includes(objectKeys.quarantinePrefix(TENANT_TAG_VARIABLE));
    for (const statement of policy.Statement) {
      const listing = statement.Condition?.StringLike?.['s3:prefix'];
      role.addToPolicy(
        iam.PolicyStatement.fromJson(
          quarantine
            ? statement
            : {
                ...statement,
                Resource: statement.Resource.filter((r) => !quarantined(r)),
                ...(listing
                  ? { Condition: { StringLike: { 's3:prefix': listing.filter((p) => !quarantined(p)) } } }
                  : {}),
              },
        ),
      );
    }
    for (const fn of callers)
      iam.Grant.addToPrincipal({
        grantee: fn,
        actions: ['sts:AssumeRole', 'sts:TagSession'],
        resourceArns: [role.roleArn],
      });
    return role;
  }

  /** Without tenant isolation: the data permissions the tenant-scoped functions use, on their own roles. */
  private grantDirectData(opts: { secretsArn: string; quarantineRejected: boolean }): void {
    const grants: [lambda.IFunction, ObjectAction[], ObjectAction[]][] = [
      // presigned PUT/POST/parts/GET, complete (head, first bytes), abandon, delete; previews:
      // head and first bytes of a cached one, presigned GET, drop and purge
      [
        this.apiFunction,
        ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload'],
        ['s3:GetObject', 's3:DeleteObject'],
      ],
      // validation: head, first bytes, removal of a rejected object
      [this.processUploadFunction, ['s3:GetObject', 's3:DeleteObject'], []],
      // reads the source, writes the PNG (and removes it when the file changed meanwhile)
      [this.renderPreviewFunction, ['s3:GetObject'], ['s3:PutObject', 's3:DeleteObject']],
    ];
    for (const [fn, uploads, previews] of grants) {
      this.table.grantReadWriteData(fn);
      grantObjects(this.uploadsBucket, fn, TENANTS_ROOT, uploads);
      grantListBucket(this.uploadsBucket, fn);
      if (previews.length > 0) grantObjects(this.previewBucket, fn, TENANTS_ROOT, previews);
    }
    grantListBucket(this.previewBucket, this.apiFunction);
    // Rejected objects are copied here for inspection (or deleted, without the quarantine).
    if (opts.quarantineRejected)
      for (const fn of [this.apiFunction, this.processUploadFunction])
        grantObjects(this.uploadsBucket, fn, QUARANTINE_ROOT, ['s3:PutObject']);
    iam.Grant.addToPrincipal({
      grantee: this.apiFunction,
      actions: [
        'secretsmanager:CreateSecret',
        'secretsmanager:TagResource',
        'secretsmanager:PutSecretValue',
        'secretsmanager:GetSecretValue',
        'secretsmanager:DeleteSecret',
      ],
      resourceArns: [opts.secretsArn],
    });
    // Files on a tenant's own provider are read with its credentials.
    for (const fn of [this.processUploadFunction, this.renderPreviewFunction])
      iam.Grant.addToPrincipal({
        grantee: fn,
        actions: ['secretsmanager:GetSecretValue'],
        resourceArns: [opts.secretsArn],
      });
  }

  /** The maintenance sweep works across tenants, outside any tenant scope: its own role. */
  private grantMaintenanceData(secretsArn: string, quarantineRejected: boolean): void {
    const fn = this.maintenanceFunction;
    this.table.grantReadWriteData(fn);
    // purge, abandon (abort multipart), validation of uploads whose event was lost
    grantObjects(this.uploadsBucket, fn, TENANTS_ROOT, [
      's3:GetObject',
      's3:DeleteObject',
      's3:AbortMultipartUpload',
    ]);
    grantListBucket(this.uploadsBucket, fn);
    if (quarantineRejected) grantObjects(this.uploadsBucket, fn, QUARANTINE_ROOT, ['s3:PutObject']);
    // expired and evicted previews, and those of purged files
    grantObjects(this.previewBucket, fn, TENANTS_ROOT, ['s3:DeleteObject']);
    grantListBucket(this.previewBucket, fn);
    iam.Grant.addToPrincipal({
      grantee: fn,
      actions: ['secretsmanager:GetSecretValue'],
      resourceArns: [secretsArn],
    });
  }

  /** Prefix wildcards are the narrowest ARNs IAM has for keys and secrets made at run time. */
  private acknowledgeScopedWildcards(secretsArnPrefix: string, quarantine: boolean): void {
    const secretsArn = `${secretsArnPrefix}/*`;
    const reasons: [string, string][] = [
      [
        nagResource(this, this.uploadsBucket.arnForObjects(`${TENANTS_ROOT}*`)),
        'Objects are created per tenant at run time; access is limited to the tenants/ prefix.',
      ],
      [
        nagResource(this, this.previewBucket.arnForObjects(`${TENANTS_ROOT}*`)),
        'Previews are cached per tenant at run time; access is limited to the tenants/ prefix.',
      ],
      [
        nagResource(this, secretsArn),
        'Provider secrets are created per tenant at run time under this deployment prefix only.',
      ],
      [
        nagResource(this, `${this.table.tableArn}/index/*`),
        'The functions query the table indexes GSI1-GSI3 declared in table-definition.ts.',
      ],
    ];
    if (quarantine) {
      reasons.push([
        nagResource(this, this.uploadsBucket.arnForObjects(`${QUARANTINE_ROOT}*`)),
        'Rejected objects are copied under quarantine/ at run time; write-only there.',
      ]);
    }
    if (this.tenantAccessRole) {
      const tenant = TENANT_TAG_VARIABLE;
      const tagged: [string, string][] = [
        [this.uploadsBucket.arnForObjects(`${objectKeys.tenantPrefix(tenant)}*`), 'its objects'],
        [this.previewBucket.arnForObjects(`${objectKeys.tenantPrefix(tenant)}*`), 'its previews'],
        [`${secretsArnPrefix}/${tenant}/*`, 'its provider secrets'],
      ];
      if (quarantine)
        tagged.push([
          this.uploadsBucket.arnForObjects(`${objectKeys.quarantinePrefix(tenant)}*`),
          'its quarantine',
        ]);
      for (const [arn, what] of tagged)
        reasons.push([
          nagResource(this, arn),
          `A tenant session reaches only ${what}: the prefix names the tenant its session is tagged with.`,
        ]);
    }
    if (this.encryptionKey) {
      for (const action of ['kms:GenerateDataKey*', 'kms:ReEncrypt*']) {
        reasons.push([`Action::${action}`, 'KMS grants for the data key; limited to the one key ARN.']);
      }
    }
    // On this construct: the findings name these exact ARNs, so no other grant is excused.
    for (const [resource, reason] of reasons) {
      const id = resource.startsWith('Action::') ? resource : `Resource::${resource}`;
      acknowledge(this, `AwsSolutions-IAM5[${id}]`, reason);
    }
  }

  /**
   * S3 event notifications are set at deploy time by a CDK-provided singleton function, whose
   * role carries the managed basic-execution policy.
   */
  private acknowledgeNotificationsHandler(): void {
    const handler = Stack.of(this).node.tryFindChild(
      'BucketNotificationsHandler050a0587b7544547bf325f094a3db834',
    );
    if (!handler) return;
    acknowledge(
      handler,
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      'CDK-provided function that sets the bucket notification; it runs only during deployment.',
    );
  }
}
