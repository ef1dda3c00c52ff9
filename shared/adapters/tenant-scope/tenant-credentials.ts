import { AssumeRoleCommand, type STSClient } from '@aws-sdk/client-sts';

/** The shape the AWS SDK accepts as credentials. */
export interface AwsCredentialIdentity {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}

export type TenantCredentialsProvider = (tenantId: string) => Promise<AwsCredentialIdentity>;

export interface StsTenantCredentialsOptions {
  sts: STSClient;
  /** The role whose permissions the session policy narrows to one tenant. */
  roleArn: string;
  policyFor: (tenantId: string) => object;
  /** Role chaining from a Lambda role allows at most one hour. */
  durationSeconds?: number;
  /** Fetch new credentials when fewer than this many ms remain (presigned URLs die with them). */
  refreshBeforeMs?: number;
  now?: () => number;
}

/**
 * Per-tenant credentials from STS AssumeRole with a session policy, cached per warm container
 * until shortly before they expire; concurrent requests for one tenant share one call.
 */
export function createStsTenantCredentials(opts: StsTenantCredentialsOptions): TenantCredentialsProvider {
  const duration = opts.durationSeconds ?? 3600;
  const refreshBefore = opts.refreshBeforeMs ?? 5 * 60_000;
  const now = opts.now ?? Date.now;
  const cache = new Map<string, Promise<AwsCredentialIdentity>>();

  const assume = async (tenantId: string): Promise<AwsCredentialIdentity> => {
    const out = await opts.sts.send(
      new AssumeRoleCommand({
        RoleArn: opts.roleArn,
        RoleSessionName: `tenant-${tenantId}`.slice(0, 64),
        Policy: JSON.stringify(opts.policyFor(tenantId)),
        DurationSeconds: duration,
        Tags: [{ Key: 'tenant', Value: tenantId }],
      }),
    );
    const c = out.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !c.Expiration)
      throw new Error('STS answered AssumeRole without credentials.');
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

/** Where no STS exists (the local stack): every tenant gets the same static credentials. */
export const staticTenantCredentials =
  (credentials: AwsCredentialIdentity): TenantCredentialsProvider =>
  async () =>
    credentials;
