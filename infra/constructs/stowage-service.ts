import { ArnFormat, Duration, RemovalPolicy, Size, Stack } from 'aws-cdk-lib';
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import type * as cognito from 'aws-cdk-lib/aws-cognito';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { Construct } from 'constructs';
import { objectKeys } from '../../shared/domain/keys.js';
import { grantDirectData, grantMaintenanceData } from './function-data-grants.js';
import { functionEnvironment, tenantIsolationEnvironment } from './function-environment.js';
import { MalwareProtection } from './malware-protection.js';
import { acknowledge, nagResource } from './nag-acknowledgements.js';
import type { PreviewRendererLayer } from './preview-renderer-layer.js';
import { ServiceMonitoring } from './service-monitoring.js';
import { StowageFunctions } from './stowage-functions.js';
import { StowageHttpApi } from './stowage-http-api.js';
import { StowageIdentity } from './stowage-identity.js';
import type { StowageServiceProps } from './stowage-service-props.js';
import { StowageStorage } from './stowage-storage.js';
import { StowageTable } from './stowage-table.js';
import { TENANT_TAG_VARIABLE, TenantAccessRole } from './tenant-access-role.js';
import { UploadEvents } from './upload-events.js';
import { WebhookEvents } from './webhook-events.js';

export {
  deployedEntries,
  FUNCTION_ENTRIES,
  OPTIONAL_FUNCTION_ENTRIES,
  PREVIEW_RENDERER_MODULES,
} from './stowage-functions.js';
export type { StowageServiceProps } from './stowage-service-props.js';
export { TENANT_TAG_VARIABLE } from './tenant-access-role.js';
export { MAX_RECEIVE_COUNT } from './upload-events.js';

/** Key roots of shared/domain/keys.ts: every tenant's objects, and the quarantine. */
const TENANTS_ROOT = objectKeys.tenantsRoot;
const QUARANTINE_ROOT = objectKeys.quarantineRoot;

/**
 * The whole Stowage service, wired from one construct per part (storage, table, identity,
 * functions, tenant role, HTTP API, upload events, monitoring), with secure defaults. Business
 * rules live in functions/ and shared/; these constructs only wire them.
 */
export class StowageService extends Construct {
  public readonly storage: StowageStorage;
  public readonly metadata: StowageTable;
  public readonly identity: StowageIdentity;
  public readonly functions: StowageFunctions;
  public readonly api: StowageHttpApi;
  public readonly uploadEvents: UploadEvents;

  public readonly accessLogBucket: s3.Bucket;
  public readonly uploadsBucket: s3.IBucket;
  public readonly previewBucket: s3.Bucket;
  public readonly encryptionKey?: kms.Key;
  public readonly table: dynamodb.ITable;
  public readonly apiFunction: nodejs.NodejsFunction;
  public readonly processUploadFunction: nodejs.NodejsFunction;
  public readonly maintenanceFunction: nodejs.NodejsFunction;
  /** Draws previews (PDF first pages, image thumbnails) into the cache, invoked asynchronously. */
  public readonly renderPreviewFunction: nodejs.NodejsFunction;
  /** Draws SVG, text, Markdown, CSV and HTML previews in Chromium (x86_64). */
  public readonly renderPreviewBrowserFunction: nodejs.NodejsFunction;
  /** The background whole-file checksum; present once functions/verify-checksum/handler.ts is. */
  public readonly verifyChecksumFunction?: nodejs.NodejsFunction;
  public readonly previewRenderer: PreviewRendererLayer;
  /** The role tenant-scoped sessions are opened on; absent when `tenantIsolation` is off. */
  public readonly tenantAccessRole?: iam.Role;
  public readonly httpApi: apigwv2.HttpApi;
  public readonly apiStage: apigwv2.HttpStage;
  public readonly uploadEventsQueue: sqs.Queue;
  public readonly uploadEventsDeadLetterQueue: sqs.Queue;
  public readonly maintenanceRule: events.Rule;
  public readonly userPool?: cognito.IUserPool;
  public readonly userPoolClient?: cognito.UserPoolClient;
  public readonly jwtIssuer: string;
  public readonly tenantClaim: string;
  public readonly rolesClaim: string;
  public readonly secretsPrefix: string;
  public readonly monitoring: ServiceMonitoring;
  /** Webhooks (API.md 13.5): stream → fan-out → delivery queue (+ DLQ, alarm) → delivery. */
  public readonly webhooks: WebhookEvents;
  /** The EventBridge bus every recorded event is put on; exported (`{stack}-EventBusArn`). */
  public readonly eventBus: events.EventBus;
  /** The GuardDuty plan, its result rule and alarms; present with `malwareProtection`. */
  public readonly malwareProtection?: MalwareProtection;

  constructor(scope: Construct, id: string, props: StowageServiceProps = {}) {
    super(scope, id);
    // Within this construct only, whatever the app's cdk.json says: log delivery to the access
    // log bucket is granted by its bucket policy, not by an ACL (ACLs stay disabled). Without
    // it a new app's default flags fail synthesis (LogDeliveryWrite needs ObjectWriter).
    this.node.setContext(cxapi.S3_SERVER_ACCESS_LOGS_USE_BUCKET_POLICY, true);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;
    const allowedOrigins = props.allowedOrigins ?? ['*'];
    const previewCacheMaxAge = props.previewCacheMaxAge ?? Duration.days(7);
    if (previewCacheMaxAge.toMilliseconds() < 1)
      throw new Error('StowageService: previewCacheMaxAge must be at least 1 ms.');
    this.secretsPrefix = props.secretsPrefix ?? `stowage/${Stack.of(this).stackName}`;
    const quarantineRejected = props.quarantineRejected ?? true;
    const tenantIsolation = props.tenantIsolation ?? true;

    // Identity first: it fails fast on contradictory props, before anything is created.
    this.identity = new StowageIdentity(this, 'Identity', {
      removalPolicy,
      jwtIssuer: props.jwtIssuer,
      jwtAudience: props.jwtAudience,
      tenantClaim: props.tenantClaim,
      rolesClaim: props.rolesClaim,
      existingUserPool: props.existingUserPool,
      userPoolProps: props.userPoolProps,
      callbackUrls: props.callbackUrls,
      logoutUrls: props.logoutUrls,
    });
    this.storage = new StowageStorage(this, 'Storage', {
      removalPolicy,
      encryption: props.encryption,
      allowedOrigins,
      previewCacheMaxAge,
      quarantineRetention: props.quarantineRetention,
      noncurrentVersionRetention: props.noncurrentVersionRetention,
      accessLogRetention: props.accessLogRetention,
      existingUploadsBucket: props.existingUploadsBucket,
      uploadsBucketProps: props.uploadsBucketProps,
      quarantineInspectionRole: props.quarantineInspectionRole,
    });
    this.metadata = new StowageTable(this, 'Metadata', {
      removalPolicy,
      encryptionKey: this.storage.encryptionKey,
      existingTable: props.existingTable,
      tableProps: props.tableProps,
    });
    ({ accessLogBucket: this.accessLogBucket, uploadsBucket: this.uploadsBucket } = this.storage);
    this.previewBucket = this.storage.previewBucket;
    this.encryptionKey = this.storage.encryptionKey;
    this.table = this.metadata.table;
    ({ userPool: this.userPool, userPoolClient: this.userPoolClient } = this.identity);
    ({
      jwtIssuer: this.jwtIssuer,
      tenantClaim: this.tenantClaim,
      rolesClaim: this.rolesClaim,
    } = this.identity);

    // ---- functions ----
    this.functions = new StowageFunctions(this, 'Functions', {
      environment: functionEnvironment({
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
      }),
      memorySize: props.memorySize ?? 512,
      tracing: props.tracing,
      removalPolicy,
      logRetention,
      previewRenderMemorySize: props.previewRenderMemorySize,
      previewBrowserMemorySize: props.previewBrowserMemorySize,
      previewRenderConcurrency: props.previewRenderConcurrency,
    });
    const fns = this.functions;
    this.apiFunction = fns.api;
    this.processUploadFunction = fns.processUpload;
    this.maintenanceFunction = fns.maintenance;
    this.renderPreviewFunction = fns.renderPreview;
    this.renderPreviewBrowserFunction = fns.renderPreviewBrowser;
    this.verifyChecksumFunction = fns.verifyChecksum;
    this.previewRenderer = fns.previewRenderer;

    // ---- permissions: only what each function's code calls ----
    const secretsArnPrefix = Stack.of(this).formatArn({
      service: 'secretsmanager',
      resource: 'secret',
      resourceName: this.secretsPrefix,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    const data = {
      table: this.table,
      uploadsBucket: this.uploadsBucket,
      previewBucket: this.previewBucket,
      secretsArn: `${secretsArnPrefix}/*`,
      quarantineRejected,
    };
    if (tenantIsolation) {
      // Everything these do with data runs in a tenant scope (the API router wraps every route,
      // process-upload each object's validation, render-preview each render), so their own roles
      // keep no data permission at all.
      this.tenantAccessRole = new TenantAccessRole(this, 'TenantAccess', {
        callers: fns.tenantScoped,
        table: this.table,
        uploadsBucket: this.uploadsBucket,
        previewBucket: this.previewBucket,
        secretsArnPrefix,
        dataKeys: this.storage.dataKeys,
        quarantine: quarantineRejected,
      }).role;
      const isolationEnvironment = tenantIsolationEnvironment({ roleArn: this.tenantAccessRole.roleArn });
      for (const fn of fns.tenantScoped)
        for (const [name, value] of Object.entries(isolationEnvironment)) fn.addEnvironment(name, value);
    } else {
      grantDirectData(fns, data);
    }
    grantMaintenanceData(fns.maintenance, data);
    this.acknowledgeScopedWildcards(secretsArnPrefix, quarantineRejected);

    // ---- API ----
    this.api = new StowageHttpApi(this, 'Api', {
      handler: fns.api,
      jwtIssuer: this.jwtIssuer,
      jwtAudience: this.identity.jwtAudience,
      allowedOrigins,
      throttle: props.throttle,
      sharedLinkThrottle: props.sharedLinkThrottle,
      removalPolicy,
      logRetention,
    });
    this.httpApi = this.api.httpApi;
    this.apiStage = this.api.stage;

    // ---- upload events and the sweep ----
    this.uploadEvents = new UploadEvents(this, 'UploadEvents', {
      uploadsBucket: this.uploadsBucket,
      consumer: fns.processUpload,
    });
    this.uploadEventsQueue = this.uploadEvents.queue;
    this.uploadEventsDeadLetterQueue = this.uploadEvents.deadLetterQueue;
    this.maintenanceRule = new events.Rule(this, 'MaintenanceSchedule', {
      description: 'Stowage maintenance: purge, sweep abandoned uploads',
      schedule: props.maintenanceSchedule ?? events.Schedule.rate(Duration.hours(1)),
      targets: [
        new targets.LambdaFunction(fns.maintenance, {
          retryAttempts: 2,
          maxEventAge: Duration.hours(1),
        }),
      ],
    });

    // ---- webhooks and the event bus (API.md 13.5) ----
    this.webhooks = new WebhookEvents(this, 'Webhooks', {
      table: this.table,
      functions: fns,
      secretsArnPrefix,
    });
    this.eventBus = this.webhooks.eventBus;
    // ---- malware scanning (API.md 13.6) ----
    const scanResults = fns.malwareScanResult;
    if (props.malwareProtection && !scanResults)
      throw new Error('StowageService: malwareProtection needs functions/malware-scan-result/handler.ts.');
    if (props.malwareProtection)
      for (const fn of [fns.api, fns.processUpload, fns.maintenance, ...fns.tenantScoped])
        fn.addEnvironment('MALWARE_SCANNER', 'guardduty');

    // ---- operations ----
    this.monitoring = new ServiceMonitoring(this, 'Monitoring', {
      alarmTopic: props.alarmTopic,
      httpApi: this.httpApi,
      functions: {
        ...fns.byName,
        WebhookFanOut: this.webhooks.fanOutFunction,
        WebhookDelivery: this.webhooks.deliveryFunction,
      },
      // Throttling is its back-pressure (reserved concurrency): what matters is an event dropped.
      queuedFunctions: { RenderPreview: fns.renderPreview, RenderPreviewBrowser: fns.renderPreviewBrowser },
      uploadValidators: [fns.api, fns.processUpload],
      previewServers: [fns.api],
      previewRenderers: [fns.renderPreview, fns.renderPreviewBrowser],
      tenantSessionOpeners: this.tenantAccessRole ? fns.tenantScoped : [],
      uploadEventsQueue: this.uploadEventsQueue,
      uploadEventsDeadLetterQueue: this.uploadEventsDeadLetterQueue,
    });
    this.webhooks.alarmTo(this.monitoring.alarmTopic);
    if (props.malwareProtection && scanResults)
      this.malwareProtection = new MalwareProtection(this, 'MalwareProtection', {
        bucket: this.uploadsBucket,
        encryptionKey: this.encryptionKey,
        objectPrefix: TENANTS_ROOT,
        resultHandler: scanResults,
        loggingFunctions: [
          fns.processUpload,
          fns.maintenance,
          scanResults,
          ...(fns.verifyChecksum ? [fns.verifyChecksum] : []),
        ],
        alarmTopic: this.monitoring.alarmTopic,
      });
  }

  /** The API's base URL, e.g. `https://abc123.execute-api.eu-west-1.amazonaws.com/`. */
  public get apiUrl(): string {
    return this.apiStage.url;
  }

  public get alarmTopic(): sns.ITopic {
    return this.monitoring.alarmTopic;
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
    if (this.storage.dataKeys.length > 0) {
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
}
