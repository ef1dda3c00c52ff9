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
import {
  GLOBAL_SECONDARY_INDEXES,
  KEY_ATTRIBUTES,
  TTL_ATTRIBUTE,
} from '../../shared/adapters/dynamodb/table-definition.js';
import { ROLES } from '../../shared/domain/model.js';
import { deployedRoutes } from './api-routes.js';
import { functionEnvironment } from './function-environment.js';
import { acknowledge, nagResource } from './nag-acknowledgements.js';
import { grantListBucket, grantObjects, type ObjectAction } from './object-grants.js';
import { ServiceMonitoring } from './service-monitoring.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** One Lambda per entry point in functions/ (test/unit/infra checks the folder against this list). */
export const FUNCTION_ENTRIES = {
  api: 'functions/api/handler.ts',
  processUpload: 'functions/process-upload/handler.ts',
  maintenance: 'functions/maintenance/handler.ts',
} as const;

/** Key prefixes of shared/domain/keys.ts (test/unit/infra checks they match what it builds). */
export const TENANTS_PREFIX = 'tenants/';
export const QUARANTINE_PREFIX = 'quarantine/';

const DAY_MS = 86_400_000;

/** Left out of the bundles: see BUNDLING. */
export const PREVIEW_RENDERER_MODULES = ['@napi-rs/canvas', 'pdfjs-dist'] as const;

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
  // The preview renderer loads these lazily (dynamic import), only when it draws. @napi-rs/canvas
  // is a native addon esbuild cannot bundle; rendering in AWS belongs to a function that ships
  // both for linux-arm64 (issue 4), not to these three.
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
}

/**
 * The whole Stowage service: storage, metadata table, the three functions, the HTTP API,
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
          prefix: QUARANTINE_PREFIX,
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
          expiration: Duration.days(Math.ceil(previewCacheMaxAge.toMilliseconds() / DAY_MS)),
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
    this.apiFunction = this.createFunction('Api', FUNCTION_ENTRIES.api, {
      ...common,
      // API Gateway gives up after 30 s; a request does metadata work and presigning only.
      timeout: Duration.seconds(15),
    });
    this.processUploadFunction = this.createFunction('ProcessUpload', FUNCTION_ENTRIES.processUpload, {
      ...common,
      timeout: Duration.seconds(60),
    });
    this.maintenanceFunction = this.createFunction('Maintenance', FUNCTION_ENTRIES.maintenance, {
      ...common,
      timeout: Duration.minutes(5),
    });

    // ---- permissions: only what each function's code calls ----
    const readWriteDelete: ObjectAction[] = [
      's3:GetObject',
      's3:PutObject',
      's3:DeleteObject',
      's3:AbortMultipartUpload',
    ];
    const grants: [lambda.IFunction, ObjectAction[]][] = [
      // presigned PUT/POST/parts/GET, complete (head, first bytes), abandon, delete
      [this.apiFunction, readWriteDelete],
      // validation: head, first bytes, removal of a rejected object
      [this.processUploadFunction, ['s3:GetObject', 's3:DeleteObject']],
      // purge, abandon (abort multipart), validation of uploads whose event was lost
      [this.maintenanceFunction, ['s3:GetObject', 's3:DeleteObject', 's3:AbortMultipartUpload']],
    ];
    for (const [fn, actions] of grants) {
      this.table.grantReadWriteData(fn);
      grantObjects(this.uploadsBucket, fn, TENANTS_PREFIX, actions);
      // Rejected objects are copied here for inspection (or deleted, without the quarantine).
      if (quarantineRejected) grantObjects(this.uploadsBucket, fn, QUARANTINE_PREFIX, ['s3:PutObject']);
      grantListBucket(this.uploadsBucket, fn);
    }
    const secretsArn = Stack.of(this).formatArn({
      service: 'secretsmanager',
      resource: 'secret',
      resourceName: `${this.secretsPrefix}/*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    iam.Grant.addToPrincipal({
      grantee: this.apiFunction,
      actions: [
        'secretsmanager:CreateSecret',
        'secretsmanager:TagResource',
        'secretsmanager:PutSecretValue',
        'secretsmanager:GetSecretValue',
        'secretsmanager:DeleteSecret',
      ],
      resourceArns: [secretsArn],
    });
    for (const fn of [this.processUploadFunction, this.maintenanceFunction]) {
      iam.Grant.addToPrincipal({
        grantee: fn,
        actions: ['secretsmanager:GetSecretValue'],
        resourceArns: [secretsArn],
      });
    }
    this.acknowledgeScopedWildcards(secretsArn, quarantineRejected);

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
        allowMethods: [
          apigwv2.CorsHttpMethod.GET,
          apigwv2.CorsHttpMethod.POST,
          apigwv2.CorsHttpMethod.PUT,
          apigwv2.CorsHttpMethod.PATCH,
          apigwv2.CorsHttpMethod.DELETE,
        ],
        allowHeaders: ['authorization', 'content-type'],
        exposeHeaders: ['allow', 'location', 'retry-after'],
        maxAge: Duration.days(1),
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
      if (!route.authorized && created) {
        acknowledge(
          created,
          'AwsSolutions-APIG4',
          route.kind === 'handler'
            ? `${route.method} ${route.path} is public by API.md (health and the OpenAPI document).`
            : `${route.method} ${route.path} only reaches the router's 405 answer; it serves no data.`,
        );
      }
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
      { prefix: TENANTS_PREFIX },
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
    options: Pick<nodejs.NodejsFunctionProps, 'environment' | 'memorySize' | 'timeout' | 'tracing'>,
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

  /** Prefix wildcards are the narrowest ARNs IAM has for keys and secrets made at run time. */
  private acknowledgeScopedWildcards(secretsArn: string, quarantine: boolean): void {
    const reasons: [string, string][] = [
      [
        nagResource(this, this.uploadsBucket.arnForObjects(`${TENANTS_PREFIX}*`)),
        'Objects are created per tenant at run time; access is limited to the tenants/ prefix.',
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
        nagResource(this, this.uploadsBucket.arnForObjects(`${QUARANTINE_PREFIX}*`)),
        'Rejected objects are copied under quarantine/ at run time; write-only there.',
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
