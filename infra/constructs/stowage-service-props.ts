import type { Duration, RemovalPolicy, Size } from 'aws-cdk-lib';
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import type * as cognito from 'aws-cdk-lib/aws-cognito';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';

/** Everything a deployment of StowageService can set; each part's construct reads its share. */
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
   * Throttling of the public share-link route (`GET /v1/shared/{token}`, API.md 13.4), the one
   * public route that reaches data: tighter than the default, so token guessing stays slow.
   * API Gateway counts it per route for all callers, not per address.
   *
   * @default { rateLimit: 20, burstLimit: 40 }
   */
  readonly sharedLinkThrottle?: apigwv2.ThrottleSettings;
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
   * STS session of the `TenantAccessRole`, tagged with the tenant; the role's own policy names
   * the tag in every resource, so no session policy is sent (STS limits its size). Off: those functions get the same data permissions directly (tenant prefixes only).
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
   * Memory of the browser render function (SVG, text, Markdown, CSV and HTML previews in
   * Chromium, on x86_64). @sparticuz/chromium asks for at least 1,600 MB.
   *
   * @default 2048
   */
  readonly previewBrowserMemorySize?: number;
  /**
   * Reserved concurrency of the render function: at most this many renders at once. Asynchronous
   * invocations above it wait in Lambda's queue (up to an hour). Opt-in: reserving needs 100
   * unreserved executions left in the account, and a new account with 10 in all rejects the stack.
   *
   * @default - none: renders share the account's unreserved concurrency
   */
  readonly previewRenderConcurrency?: number;
  // ---- bring your own (aws-solutions-constructs style: existing* wins over *Props) ----
  /**
   * An uploads bucket of your own. It must be versioned (downloads read the validated version)
   * and allow the browser CORS the created one has; the quarantine deny statement is added to its
   * policy when CDK can (a bucket of this app), otherwise synth warns and you add it.
   *
   * @default - a versioned, encrypted, access-logged bucket is created
   */
  readonly existingUploadsBucket?: s3.IBucket;
  /**
   * Overrides merged over the created uploads bucket's settings. `versioned: false` is refused.
   *
   * @default - none
   */
  readonly uploadsBucketProps?: Partial<s3.BucketProps>;
  /**
   * A metadata table of your own, with the keys and indexes of
   * shared/adapters/dynamodb/table-definition.ts (pk/sk strings, GSI1-GSI3, TTL attribute).
   *
   * @default - a table is created
   */
  readonly existingTable?: dynamodb.ITable;
  /**
   * Overrides merged over the created table's settings (keys and indexes stay the service's).
   *
   * @default - none
   */
  readonly tableProps?: Omit<Partial<dynamodb.TableProps>, 'partitionKey' | 'sortKey'>;
  /**
   * A Cognito user pool of your own: the construct adds its app client to it. The pool needs a
   * `custom:tenant_id` attribute and the role groups (API.md section 1), which the construct
   * creates only in a pool of its own.
   *
   * @default - a user pool is created (unless `jwtIssuer` is given)
   */
  readonly existingUserPool?: cognito.IUserPool;
  /**
   * Overrides merged over the created user pool's settings.
   *
   * @default - none
   */
  readonly userPoolProps?: Partial<cognito.UserPoolProps>;
  /**
   * OAuth callback URLs of the created app client (authorization code grant only). Without
   * them the client has no OAuth flow at all: sign-in is SRP (InitiateAuth), as the service uses.
   *
   * @default - no OAuth flows, no callback URL
   */
  readonly callbackUrls?: string[];
  /**
   * OAuth sign-out URLs of the created app client; only with `callbackUrls`.
   *
   * @default - none
   */
  readonly logoutUrls?: string[];
  /**
   * The one principal still allowed to read objects tagged `stowage-quarantine=true` (the
   * uploads bucket policy denies it to everyone else, this deployment's functions included).
   *
   * @default - nobody reads quarantined objects; they expire after `quarantineRetention`
   */
  readonly quarantineInspectionRole?: iam.IRole;
  /**
   * API.md 13.6: enable a GuardDuty Malware Protection for S3 plan on the uploads bucket (tagging
   * on), route its scan results to the malware-scan-result function and alarm on scans that give
   * no verdict. Without it no bucket may set `malwareScan: required`. GuardDuty bills per GB scanned.
   *
   * @default false
   */
  readonly malwareProtection?: boolean;
}
