import { AssumeRoleCommand, type STSClient } from '@aws-sdk/client-sts';
import { type Logger, silentLogger } from '../../ports/logger.js';

/** The shape the AWS SDK accepts as credentials. */
export interface AwsCredentialIdentity {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}

export type TenantCredentialsProvider = (tenantId: string) => Promise<AwsCredentialIdentity>;

/** The session tag the tenant role's own policy names as `${aws:PrincipalTag/tenant}`. */
export const TENANT_SESSION_TAG = 'tenant';

/** STS's limits on what a session request carries (AWS-LIMITS.md). */
export const STS_LIMITS = {
  roleSessionName: 64,
  tagKey: 128,
  tagValue: 256,
  /** `PackedPolicySize` is a percentage of the packed limit; alarms fire above this. */
  packedPolicyAlarmPercent: 80,
} as const;

/** The JSON line each new tenant session logs; service-monitoring.ts reads it. */
export const TENANT_SESSION_LOG_MESSAGE = 'tenant session opened';

export interface StsTenantCredentialsOptions {
  sts: STSClient;
  /** The role whose own policy, keyed by the `tenant` session tag, limits a session to one tenant. */
  roleArn: string;
  /** Role chaining from a Lambda role allows at most one hour. */
  durationSeconds?: number;
  /** Fetch new credentials when fewer than this many ms remain (presigned URLs die with them). */
  refreshBeforeMs?: number;
  /** Gets one `tenant session opened` line per AssumeRole, with STS's `packedPolicySize` (%). */
  logger?: Logger;
  now?: () => number;
}

/**
 * Per-tenant credentials from STS AssumeRole, tagged `tenant={id}` and with no inline session
 * policy: the role's own policy names `${aws:PrincipalTag/tenant}` in every resource and
 * `dynamodb:LeadingKeys`, so the request stays a few hundred bytes for any tenant id and any
 * resource names (an inline policy of a 64-character tenant with 60-character CloudFormation
 * names and KMS passes the 2,048-character limit). Cached per warm container until shortly
 * before expiry; concurrent requests for one tenant share one call.
 */
export function createStsTenantCredentials(opts: StsTenantCredentialsOptions): TenantCredentialsProvider {
  const duration = opts.durationSeconds ?? 3600;
  const refreshBefore = opts.refreshBeforeMs ?? 5 * 60_000;
  const now = opts.now ?? Date.now;
  const logger = opts.logger ?? silentLogger;
  const cache = new Map<string, Promise<AwsCredentialIdentity>>();

  const assume = async (tenantId: string): Promise<AwsCredentialIdentity> => {
    if (tenantId.length === 0 || tenantId.length > STS_LIMITS.tagValue)
      throw new Error(`A tenant id must be 1 to ${STS_LIMITS.tagValue} characters to tag an STS session.`);
    const out = await opts.sts.send(
      new AssumeRoleCommand({
        RoleArn: opts.roleArn,
        // CloudTrail's name for the session; the tag, not the name, decides what it reaches.
        RoleSessionName: `tenant-${tenantId}`.slice(0, STS_LIMITS.roleSessionName),
        DurationSeconds: duration,
        Tags: [{ Key: TENANT_SESSION_TAG, Value: tenantId }],
      }),
    );
    const c = out.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !c.Expiration)
      throw new Error('STS answered AssumeRole without credentials.');
    const packedPolicySize = out.PackedPolicySize;
    const fields = { tenantId, packedPolicySize, expiresAt: c.Expiration.toISOString() };
    if (packedPolicySize !== undefined && packedPolicySize > STS_LIMITS.packedPolicyAlarmPercent)
      logger.warn(TENANT_SESSION_LOG_MESSAGE, { ...fields, nearLimit: true });
    else logger.info(TENANT_SESSION_LOG_MESSAGE, fields);
    return {
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      sessionToken: c.SessionToken,
      expiration: c.Expiration,
    };
  };

  return async (tenantId) => {
    const cached = cache.get(tenantId);
    if (cached) {
      const credentials = await cached.catch(() => null);
      if (credentials?.expiration && credentials.expiration.getTime() - now() > refreshBefore)
        return credentials;
    }
    const fresh = assume(tenantId);
    cache.set(tenantId, fresh);
    fresh.catch(() => cache.delete(tenantId));
    return fresh;
  };
}
