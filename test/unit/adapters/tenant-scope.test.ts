import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { tenantAccessPolicy } from '../../../shared/adapters/tenant-scope/tenant-access-policy.js';
import { currentTenant, runAsTenant } from '../../../shared/adapters/tenant-scope/tenant-context.js';
import {
  createStsTenantCredentials,
  STS_LIMITS,
  TENANT_SESSION_LOG_MESSAGE,
} from '../../../shared/adapters/tenant-scope/tenant-credentials.js';
import { routeByTenant } from '../../../shared/adapters/tenant-scope/tenant-router.js';

const resources = {
  tableArn: 'arn:aws:dynamodb:eu-west-1:111122223333:table/stowage',
  uploadsBucketArn: 'arn:aws:s3:::stowage-uploads',
  previewBucketArn: 'arn:aws:s3:::stowage-previews',
  secretsArnPrefix: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:stowage/Stowage-dev',
};

/** Just enough of IAM's matching to ask "would this policy allow that?". */
function allows(
  policy: ReturnType<typeof tenantAccessPolicy>,
  action: string,
  resource: string,
  leadingKeys?: string[],
) {
  const glob = (pattern: string) =>
    new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
  return policy.Statement.some((s) => {
    if (!s.Action.includes(action) || !s.Resource.some((r) => glob(r).test(resource))) return false;
    const keys = s.Condition?.['ForAllValues:StringLike']?.['dynamodb:LeadingKeys'];
    if (!keys) return true;
    return (leadingKeys ?? []).every((k) => keys.some((p) => glob(p).test(k)));
  });
}

describe('tenantAccessPolicy', () => {
  const acme = tenantAccessPolicy('acme', resources);

  it.each([
    ['s3:GetObject', 'arn:aws:s3:::stowage-uploads/tenants/acme/B1/F1', true],
    ['s3:PutObject', 'arn:aws:s3:::stowage-uploads/quarantine/tenants/acme/B1/F1', true],
    ['s3:PutObject', 'arn:aws:s3:::stowage-previews/tenants/acme/previews/F1/w800.png', true],
    ['s3:GetObject', 'arn:aws:s3:::stowage-uploads/tenants/acme-corp/B1/F1', false],
    ['s3:GetObject', 'arn:aws:s3:::stowage-uploads/tenants/other/B1/F1', false],
    ['s3:GetObject', 'arn:aws:s3:::stowage-uploads/quarantine/tenants/other/B1/F1', false],
    ['s3:GetObject', 'arn:aws:s3:::another-bucket/tenants/acme/B1/F1', false],
    ['s3:DeleteBucket', 'arn:aws:s3:::stowage-uploads', false],
  ])('%s on %s: %s', (action, resource, expected) => {
    expect(allows(acme, action, resource)).toBe(expected);
  });

  it.each([
    [['T#acme'], true],
    [['T#acme#F#01ABC'], true],
    [['T#acme#E#ticket#T-1', 'T#acme#F#01ABC'], true],
    [['T#acme-corp'], false],
    [['T#acme-corp#F#1'], false],
    [['T#other#F#1'], false],
    [['T#acme', 'T#other'], false],
  ])('DynamoDB leading keys %j: %s', (keys, expected) => {
    expect(allows(acme, 'dynamodb:UpdateItem', resources.tableArn, keys)).toBe(expected);
    expect(allows(acme, 'dynamodb:Query', `${resources.tableArn}/index/GSI1`, keys)).toBe(expected);
  });

  it('never allows a Scan, and keeps secrets to the tenant folder', () => {
    expect(acme.Statement.flatMap((s) => s.Action)).not.toContain('dynamodb:Scan');
    expect(
      allows(acme, 'secretsmanager:GetSecretValue', `${resources.secretsArnPrefix}/acme/providers/P1-AbCdEf`),
    ).toBe(true);
    expect(
      allows(
        acme,
        'secretsmanager:GetSecretValue',
        `${resources.secretsArnPrefix}/other/providers/P1-AbCdEf`,
      ),
    ).toBe(false);
  });

  it('lets a session use the buckets’ customer managed key only when there is one (SSE-KMS)', () => {
    const keyArn = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    const withKey = tenantAccessPolicy('acme', { ...resources, kmsKeyArns: [keyArn] });
    expect(allows(withKey, 'kms:Decrypt', keyArn)).toBe(true);
    expect(allows(withKey, 'kms:GenerateDataKey', keyArn)).toBe(true);
    expect(allows(withKey, 'kms:Decrypt', `${keyArn}0`)).toBe(false);
    expect(acme.Statement.flatMap((s) => s.Action).filter((a) => a.startsWith('kms:'))).toEqual([]);
  });
});

describe('createStsTenantCredentials', () => {
  const expiringIn = (ms: number, id: string) => ({
    Credentials: {
      AccessKeyId: id,
      SecretAccessKey: 's',
      SessionToken: 't',
      Expiration: new Date(Date.now() + ms),
    },
  });

  it('assumes the role with the tenant policy once per tenant and reuses it while fresh', async () => {
    const sts = mockClient(STSClient);
    sts
      .on(AssumeRoleCommand)
      .callsFake(async (input) => expiringIn(3_600_000, `ASIA-${input.RoleSessionName}`));
    const credentialsFor = createStsTenantCredentials({
      sts: new STSClient({ region: 'eu-west-1' }),
      roleArn: 'arn:aws:iam::111122223333:role/tenant-access',
    });
    const [a1, a2, b] = await Promise.all([
      credentialsFor('acme'),
      credentialsFor('acme'),
      credentialsFor('beta'),
    ]);
    expect(a1.accessKeyId).toBe('ASIA-tenant-acme');
    expect(a2).toEqual(a1);
    expect(b.accessKeyId).toBe('ASIA-tenant-beta');
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(2);
    // the tag scopes the session (the role's own policy); no inline session policy is sent
    const input = sts.commandCalls(AssumeRoleCommand)[0]?.args[0].input;
    expect(input?.Tags).toEqual([{ Key: 'tenant', Value: 'acme' }]);
    expect(input?.Policy).toBeUndefined();
    expect(input?.PolicyArns).toBeUndefined();
    sts.restore();
  });

  it('renews shortly before expiry, and does not cache a failure', async () => {
    const sts = mockClient(STSClient);
    sts
      .on(AssumeRoleCommand)
      .rejectsOnce(new Error('throttled'))
      .resolvesOnce(expiringIn(60_000, 'SHORT'))
      .resolves(expiringIn(3_600_000, 'LONG'));
    const credentialsFor = createStsTenantCredentials({
      sts: new STSClient({ region: 'eu-west-1' }),
      roleArn: 'arn:aws:iam::111122223333:role/tenant-access',
      refreshBeforeMs: 5 * 60_000,
    });
    await expect(credentialsFor('acme')).rejects.toThrow('throttled');
    expect((await credentialsFor('acme')).accessKeyId).toBe('SHORT');
    // one minute left is under the five-minute margin: renewed
    expect((await credentialsFor('acme')).accessKeyId).toBe('LONG');
    expect((await credentialsFor('acme')).accessKeyId).toBe('LONG');
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(3);
    sts.restore();
  });
  it('for the longest tenant id (64 characters), asks STS for a session inside its limits', async () => {
    const sts = mockClient(STSClient);
    sts.on(AssumeRoleCommand).resolves(expiringIn(3_600_000, 'LONGEST'));
    const tenantId = `${'a1_-'.repeat(16)}`;
    expect(tenantId).toHaveLength(64);
    await createStsTenantCredentials({
      sts: new STSClient({ region: 'eu-west-1' }),
      roleArn: `arn:aws:iam::111122223333:role/${'S'.repeat(64)}`,
    })(tenantId);
    const input = sts.commandCalls(AssumeRoleCommand)[0]!.args[0].input;
    expect(input.RoleSessionName!.length).toBeLessThanOrEqual(STS_LIMITS.roleSessionName);
    expect(input.RoleSessionName).toMatch(/^[\w+=,.@-]+$/);
    expect(input.Tags).toEqual([{ Key: 'tenant', Value: tenantId }]);
    for (const tag of input.Tags!) {
      expect(tag.Key!.length).toBeLessThanOrEqual(STS_LIMITS.tagKey);
      expect(tag.Value!.length).toBeLessThanOrEqual(STS_LIMITS.tagValue);
    }
    expect(input.Policy).toBeUndefined();
    expect(input.DurationSeconds).toBeLessThanOrEqual(3600); // role chaining: one hour at most
    sts.restore();
  });

  it('logs STS’s PackedPolicySize of each session, as a warning above 80 %', async () => {
    const sts = mockClient(STSClient);
    sts
      .on(AssumeRoleCommand)
      .resolvesOnce({ ...expiringIn(3_600_000, 'A'), PackedPolicySize: 6 })
      .resolves({ ...expiringIn(3_600_000, 'B'), PackedPolicySize: 85 });
    const lines: { level: string; message: string; fields?: Record<string, unknown> }[] = [];
    const logger = {
      info: (message: string, fields?: Record<string, unknown>) =>
        lines.push({ level: 'info', message, fields }),
      warn: (message: string, fields?: Record<string, unknown>) =>
        lines.push({ level: 'warn', message, fields }),
      error: (message: string, fields?: Record<string, unknown>) =>
        lines.push({ level: 'error', message, fields }),
    };
    const credentialsFor = createStsTenantCredentials({
      sts: new STSClient({ region: 'eu-west-1' }),
      roleArn: 'arn:aws:iam::111122223333:role/tenant-access',
      logger,
    });
    await credentialsFor('acme');
    await credentialsFor('beta');
    expect(lines).toEqual([
      {
        level: 'info',
        message: TENANT_SESSION_LOG_MESSAGE,
        fields: expect.objectContaining({ tenantId: 'acme', packedPolicySize: 6 }),
      },
      {
        level: 'warn',
        message: TENANT_SESSION_LOG_MESSAGE,
        fields: expect.objectContaining({ tenantId: 'beta', packedPolicySize: 85, nearLimit: true }),
      },
    ]);
    expect(JSON.stringify(lines)).not.toContain('"s"'); // the secret key is never logged
    sts.restore();
  });
});

describe('runAsTenant', () => {
  it('carries the tenant through async work and keeps concurrent requests apart', async () => {
    const seen = await Promise.all(
      ['a', 'b', 'c'].map((t) =>
        runAsTenant(t, async () => {
          await new Promise((r) => setTimeout(r, Math.random() * 10));
          return currentTenant();
        }),
      ),
    );
    expect(seen).toEqual(['a', 'b', 'c']);
    expect(currentTenant()).toBeUndefined();
  });
});

describe('routeByTenant', () => {
  it('answers with the current tenant’s instance, built once, and the system one outside a tenant', async () => {
    const built: string[] = [];
    const store = routeByTenant({
      system: { whoAmI: (): string => 'system' },
      forTenant: (t) => {
        built.push(t);
        return { whoAmI: () => `scoped to ${t}` };
      },
      maxTenants: 2,
    });
    expect(store.whoAmI()).toBe('system');
    expect(await runAsTenant('a', async () => store.whoAmI())).toBe('scoped to a');
    expect(await runAsTenant('a', async () => store.whoAmI())).toBe('scoped to a');
    expect(await runAsTenant('b', async () => store.whoAmI())).toBe('scoped to b');
    // a third tenant evicts the least recently used one (a)
    await runAsTenant('c', async () => store.whoAmI());
    await runAsTenant('a', async () => store.whoAmI());
    expect(built).toEqual(['a', 'b', 'c', 'a']);
  });
});
