import { type App, Duration, RemovalPolicy, Size } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { StowageServiceProps } from './constructs/stowage-service.js';
import { StowageStack } from './stacks/stowage-stack.js';

/** Context key in cdk.json holding the settings of each stage. */
export const STAGES_CONTEXT_KEY = 'stowage:stages';

/** One stage's settings as written in cdk.json (JSON: plain numbers and strings). */
export interface StageSettings {
  account?: string;
  region?: string;
  removalPolicy?: 'retain' | 'destroy';
  logRetentionDays?: number;
  jwtIssuer?: string;
  jwtAudience?: string[];
  tenantClaim?: string;
  rolesClaim?: string;
  allowedOrigins?: string[];
  throttle?: { rateLimit: number; burstLimit: number };
  maxFileSizeBytes?: number;
  previewCacheMaxAgeMs?: number;
  previewCacheMaxSizeBytes?: number;
  quarantineRetentionDays?: number;
  noncurrentVersionRetentionDays?: number;
  encryption?: 'S3_MANAGED' | 'KMS';
  alarmEmail?: string;
  tenantIsolation?: boolean;
  previewRenderConcurrency?: number;
  callbackUrls?: string[];
  logoutUrls?: string[];
}

const KNOWN_KEYS = new Set<string>([
  'account',
  'region',
  'removalPolicy',
  'logRetentionDays',
  'jwtIssuer',
  'jwtAudience',
  'tenantClaim',
  'rolesClaim',
  'allowedOrigins',
  'throttle',
  'maxFileSizeBytes',
  'previewCacheMaxAgeMs',
  'previewCacheMaxSizeBytes',
  'quarantineRetentionDays',
  'noncurrentVersionRetentionDays',
  'encryption',
  'alarmEmail',
  'tenantIsolation',
  'previewRenderConcurrency',
  'callbackUrls',
  'logoutUrls',
]);

/** Reads the stages from context; fails with the key to fix rather than deploying a typo. */
export function readStages(context: unknown): Record<string, StageSettings> {
  if (!context || typeof context !== 'object' || Array.isArray(context))
    throw new Error(`cdk.json context "${STAGES_CONTEXT_KEY}" must map stage names to settings.`);
  const stages = context as Record<string, unknown>;
  for (const [stage, settings] of Object.entries(stages)) {
    if (!/^[A-Za-z][A-Za-z0-9-]*$/.test(stage))
      throw new Error(`Stage name "${stage}" must be letters, digits and hyphens (it names the stack).`);
    if (!settings || typeof settings !== 'object')
      throw new Error(`Stage "${stage}": settings must be an object.`);
    for (const key of Object.keys(settings))
      if (!KNOWN_KEYS.has(key)) throw new Error(`Stage "${stage}": unknown setting "${key}".`);
    const s = settings as StageSettings;
    if (s.removalPolicy !== undefined && s.removalPolicy !== 'retain' && s.removalPolicy !== 'destroy')
      throw new Error(`Stage "${stage}": removalPolicy must be "retain" or "destroy".`);
    if (
      s.logRetentionDays !== undefined &&
      !Object.values(logs.RetentionDays).includes(s.logRetentionDays as logs.RetentionDays)
    )
      throw new Error(
        `Stage "${stage}": logRetentionDays ${s.logRetentionDays} is not a CloudWatch retention.`,
      );
  }
  return stages as Record<string, StageSettings>;
}

const days = (n: number | undefined) => (n === undefined ? undefined : Duration.days(n));

export function serviceProps(s: StageSettings): StowageServiceProps {
  return {
    jwtIssuer: s.jwtIssuer,
    jwtAudience: s.jwtAudience,
    tenantClaim: s.tenantClaim,
    rolesClaim: s.rolesClaim,
    allowedOrigins: s.allowedOrigins,
    throttle: s.throttle,
    maxFileSize: s.maxFileSizeBytes === undefined ? undefined : Size.bytes(s.maxFileSizeBytes),
    previewCacheMaxAge:
      s.previewCacheMaxAgeMs === undefined ? undefined : Duration.millis(s.previewCacheMaxAgeMs),
    previewCacheMaxSize:
      s.previewCacheMaxSizeBytes === undefined ? undefined : Size.bytes(s.previewCacheMaxSizeBytes),
    quarantineRetention: days(s.quarantineRetentionDays),
    noncurrentVersionRetention: days(s.noncurrentVersionRetentionDays),
    logRetention: s.logRetentionDays as logs.RetentionDays | undefined,
    removalPolicy: s.removalPolicy === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    encryption: s.encryption,
    tenantIsolation: s.tenantIsolation,
    previewRenderConcurrency: s.previewRenderConcurrency,
    callbackUrls: s.callbackUrls,
    logoutUrls: s.logoutUrls,
  };
}

/**
 * One stack per stage: only the stage named by `-c stage=NAME`, or every stage of cdk.json
 * when none is named. Stacks are called `Stowage-{stage}`.
 */
export function addStageStacks(app: App): StowageStack[] {
  const stages = readStages(app.node.tryGetContext(STAGES_CONTEXT_KEY));
  const chosen = app.node.tryGetContext('stage') as string | undefined;
  if (chosen !== undefined && !(chosen in stages))
    throw new Error(`Unknown stage "${chosen}"; cdk.json defines: ${Object.keys(stages).join(', ')}.`);
  const names = chosen === undefined ? Object.keys(stages) : [chosen];
  return names.map((stage) => {
    const settings = stages[stage] as StageSettings;
    const env =
      settings.account || settings.region
        ? { account: settings.account, region: settings.region }
        : { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION };
    return new StowageStack(app, `Stowage-${stage}`, {
      env,
      description: `Stowage file storage service (${stage})`,
      tags: { application: 'stowage', stage },
      service: serviceProps(settings),
      alarmEmail: settings.alarmEmail,
    });
  });
}
