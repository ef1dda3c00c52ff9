import { Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { afterAll, describe, expect, it } from 'vitest';
import {
  StowageService,
  type StowageServiceProps,
  TENANT_TAG_VARIABLE,
} from '../../../infra/constructs/stowage-service.js';
import { QUARANTINE_DENY_SID } from '../../../infra/constructs/stowage-storage.js';
import { StowageStack } from '../../../infra/stacks/stowage-stack.js';
import { tenantAccessPolicy } from '../../../shared/adapters/tenant-scope/tenant-access-policy.js';
import { QUARANTINE_TAG } from '../../../shared/domain/quarantine-tag.js';
import {
  asArray,
  removeTestOutdirs,
  resourcesOf,
  statementsOfRole,
  synthService,
  testApp,
} from './support/synth.js';

afterAll(removeTestOutdirs);

/** A real first deployment's names: a 60+ character stack name, KMS on. */
const LONG_STACK = 'StowageProductionEuWest1TenantIsolatedDeploymentOfTheFileStore';

/**
 * The template value as deployed text, each reference replaced by the longest value it can
 * take (names of 63 or 255 characters), so sizes are upper bounds of the deployed ones.
 */
function deployedText(value: unknown): string {
  const pseudo: Record<string, string> = {
    'AWS::Partition': 'aws-us-gov',
    'AWS::Region': 'ap-southeast-2',
    'AWS::AccountId': '111122223333',
    'AWS::URLSuffix': 'amazonaws.com',
  };
  const visit = (v: unknown): string => {
    if (typeof v === 'string') return v;
    const o = v as Record<string, any>;
    if (o['Fn::Join']) return (o['Fn::Join'][1] as unknown[]).map(visit).join(o['Fn::Join'][0]);
    if (o.Ref) return pseudo[o.Ref] ?? 'n'.repeat(255);
    if (o['Fn::GetAtt']) return `arn:aws-us-gov:service:ap-southeast-2:111122223333:${'n'.repeat(255)}`;
    return JSON.stringify(v);
  };
  const walk = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(walk)
      : v && typeof v === 'object'
        ? 'Fn::Join' in v || 'Ref' in v || 'Fn::GetAtt' in v
          ? visit(v)
          : Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]))
        : v;
  return JSON.stringify(walk(value));
}

describe('the tenant session within STS’s limits (real names, 64-character tenants, KMS)', () => {
  const app = testApp();
  const stack = new StowageStack(app, LONG_STACK, { service: { encryption: 'KMS' } });
  const template = Template.fromStack(stack);
  const roleId = stack.getLogicalId(stack.service.tenantAccessRole!.node.defaultChild as never);
  const role = resourcesOf(template, 'AWS::IAM::Role')[roleId]!.Properties;

  it('the role trusts its callers to tag the session, and only with a tenant tag', () => {
    expect(LONG_STACK.length).toBeGreaterThan(60);
    const [trust] = role.AssumeRolePolicyDocument.Statement;
    expect(trust.Action).toEqual(['sts:AssumeRole', 'sts:TagSession']);
    expect(trust.Condition).toEqual({ Null: { 'aws:RequestTag/tenant': 'false' } });
    // Role chaining from a Lambda role caps the session at one hour anyway.
    expect(role.MaxSessionDuration).toBe(3600);
  });

  it('scopes every object, listing, item and secret by the session tag', () => {
    const statements = statementsOfRole(template, roleId);
    const bySid = Object.fromEntries(statements.map((s) => [s.Sid, s]));
    for (const sid of ['TenantObjects', 'TenantSecrets'])
      for (const r of asArray(bySid[sid].Resource))
        expect(deployedText(r), sid).toContain(TENANT_TAG_VARIABLE);
    expect(bySid.TenantItems.Condition).toEqual({
      'ForAllValues:StringLike': {
        'dynamodb:LeadingKeys': [`T#${TENANT_TAG_VARIABLE}`, `T#${TENANT_TAG_VARIABLE}#*`],
      },
    });
    expect(bySid.TenantListing.Condition.StringLike['s3:prefix']).toContain(
      `tenants/${TENANT_TAG_VARIABLE}/*`,
    );
    // KMS on: the session may use the data key, and only it.
    expect(bySid.DataKey.Resource).toEqual({
      'Fn::GetAtt': [stack.getLogicalId(stack.service.encryptionKey!.node.defaultChild as never), 'Arn'],
    });
  });

  it('keeps the role’s own policies far under IAM’s 10,240-character inline limit, for any tenant', () => {
    const policies = Object.values(resourcesOf(template, 'AWS::IAM::Policy')).filter((p) =>
      (p.Properties.Roles as any[]).some((r) => r.Ref === roleId),
    );
    const size = policies.reduce(
      (sum, p) => sum + deployedText(p.Properties.PolicyDocument).replace(/\s/g, '').length,
      0,
    );
    console.log(`tenant role inline policy: at most ${size} of 10240 characters with 255-character names`);
    expect(size).toBeLessThan(10_240);
    // The tenant id is not in it: a 64-character tenant costs the role nothing.
    expect(deployedText(policies)).not.toMatch(/tenants\/[A-Za-z0-9_-]{64}\//);
  });

  it('(why) the same rules as an inline session policy would not fit STS’s 2,048 characters', () => {
    const arn = (service: string, resource: string) =>
      `arn:aws:${service}:eu-west-1:111122223333:${resource}`;
    const name = (id: string) => `${LONG_STACK.toLowerCase()}-${id}-1a2b3c4d5e6f`.slice(0, 63);
    const inline = tenantAccessPolicy('t'.repeat(64), {
      tableArn: arn('dynamodb', `table/${LONG_STACK}-ServiceMetadataTable1A2B3C4D-1A2B3C4D5E6F`),
      uploadsBucketArn: `arn:aws:s3:::${name('serviceuploads')}`,
      previewBucketArn: `arn:aws:s3:::${name('servicepreviewcache')}`,
      secretsArnPrefix: arn('secretsmanager', `secret:stowage/${LONG_STACK}`),
      kmsKeyArns: [arn('kms', 'key/1234abcd-12ab-34cd-56ef-1234567890ab')],
    });
    const length = JSON.stringify(inline).length;
    console.log(`inline session policy it replaces: ${length} characters (limit 2048)`);
    expect(length).toBeGreaterThan(2048);
  });
});

describe('deployable in a new account', () => {
  const { template } = synthService({}, 'NewAccount');
  const client = Object.values(resourcesOf(template, 'AWS::Cognito::UserPoolClient'))[0]!.Properties;

  it('the app client allows SRP sign-in and refresh only: no OAuth flow, no example.com callback', () => {
    expect(client.ExplicitAuthFlows.sort()).toEqual(['ALLOW_REFRESH_TOKEN_AUTH', 'ALLOW_USER_SRP_AUTH']);
    expect(client.AllowedOAuthFlows).toBeUndefined();
    expect(client.AllowedOAuthFlowsUserPoolClient).toBe(false);
    expect(JSON.stringify(client)).not.toContain('example.com');
    expect(client.CallbackURLs).toBeUndefined();
  });

  it('with callback URLs, the app client allows the authorization code grant to them only', () => {
    const { template: t } = synthService(
      { callbackUrls: ['https://files.acme.test/callback'], logoutUrls: ['https://files.acme.test/'] },
      'Callbacks',
    );
    const c = Object.values(resourcesOf(t, 'AWS::Cognito::UserPoolClient'))[0]!.Properties;
    expect(c.AllowedOAuthFlows).toEqual(['code']);
    expect(c.CallbackURLs).toEqual(['https://files.acme.test/callback']);
    expect(c.LogoutURLs).toEqual(['https://files.acme.test/']);
    expect(c.AllowedOAuthScopes.sort()).toEqual(['email', 'openid', 'profile']);
  });

  it('refuses logout URLs without callback URLs', () => {
    expect(() => synthService({ logoutUrls: ['https://files.acme.test/'] }, 'LogoutOnly')).toThrow(
      /callbackUrls/,
    );
  });

  it('a changed email address takes effect only once verified', () => {
    template.hasResourceProperties('AWS::Cognito::UserPool', {
      AutoVerifiedAttributes: ['email'],
      UserAttributeUpdateSettings: { AttributesRequireVerificationBeforeUpdate: ['email'] },
    });
  });
});

describe('quarantine by tag', () => {
  const quarantineDeny = (t: Template) =>
    Object.values(resourcesOf(t, 'AWS::S3::BucketPolicy'))
      .flatMap((p) => p.Properties.PolicyDocument.Statement)
      .filter((s: any) => s.Sid === QUARANTINE_DENY_SID);

  it('the uploads bucket denies every read of a tagged object, any version, to everyone', () => {
    const { stack, template } = synthService({}, 'Quarantine');
    const uploadsId = stack.getLogicalId(stack.service.uploadsBucket.node.defaultChild as never);
    const [deny] = quarantineDeny(template);
    expect(deny).toEqual({
      Sid: QUARANTINE_DENY_SID,
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: ['s3:GetObject', 's3:GetObjectVersion'],
      Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [uploadsId, 'Arn'] }, '/*']] },
      Condition: { StringEquals: { 's3:ExistingObjectTag/stowage-quarantine': 'true' } },
    });
    const policy = Object.values(resourcesOf(template, 'AWS::S3::BucketPolicy')).find((p) =>
      p.Properties.PolicyDocument.Statement.some((s: any) => s.Sid === QUARANTINE_DENY_SID),
    )!;
    expect(policy.Properties.Bucket).toEqual({ Ref: uploadsId });
    // and stays versioned: the tag is on the validated version, and downloads read that version
    template.hasResourceProperties('AWS::S3::Bucket', { VersioningConfiguration: { Status: 'Enabled' } });
  });

  it('lets an explicit inspection role read quarantined objects, and nobody else', () => {
    const app = testApp();
    const roles = new Stack(app, 'Roles');
    const inspectorArn = 'arn:aws:iam::111122223333:role/stowage-quarantine-inspector';
    const stack = new StowageStack(app, 'Inspected', {
      service: { quarantineInspectionRole: iam.Role.fromRoleArn(roles, 'Inspector', inspectorArn) },
    });
    const [deny] = quarantineDeny(Template.fromStack(stack));
    expect(deny.Condition).toEqual({
      StringEquals: { 's3:ExistingObjectTag/stowage-quarantine': 'true' },
      ArnNotEquals: { 'aws:PrincipalArn': inspectorArn },
    });
  });
});

describe('bring your own bucket, table and user pool (existing* / *Props)', () => {
  /** The construct in a stack of the user's own, next to resources that stack already has. */
  function ownStack(id: string, given: (stack: Stack) => Partial<StowageServiceProps>) {
    const stack = new Stack(testApp(), id, { env: { region: 'eu-west-1' } });
    const service = new StowageService(stack, 'Service', given(stack));
    return { stack, service, template: Template.fromStack(stack) };
  }
  const { stack, service, template } = ownStack('Own', (st) => ({
    existingUploadsBucket: s3.Bucket.fromBucketName(st, 'TeamUploads', 'team-uploads'),
    // Webhooks read the table's stream: an imported table names it.
    existingTable: dynamodb.Table.fromTableAttributes(st, 'TeamTable', {
      tableName: 'team-stowage-table',
      tableStreamArn:
        'arn:aws:dynamodb:eu-west-1:111111111111:table/team-stowage-table/stream/2026-01-01T00:00:00.000',
    }),
    existingUserPool: cognito.UserPool.fromUserPoolId(st, 'TeamPool', 'eu-west-1_AbCdEf123'),
  }));
  const apiEnvironment = (t: Template) =>
    Object.values(resourcesOf(t, 'AWS::Lambda::Function')).find((f) =>
      String(f.Properties.Description).includes('functions/api/handler.ts'),
    )!.Properties.Environment.Variables;

  it('creates none of them, and wires the functions to the given ones', () => {
    // only the access-log and preview buckets of its own
    expect(Object.keys(resourcesOf(template, 'AWS::S3::Bucket'))).toHaveLength(2);
    template.resourceCountIs('AWS::DynamoDB::Table', 0);
    template.resourceCountIs('AWS::Cognito::UserPool', 0);
    template.resourceCountIs('AWS::Cognito::UserPoolGroup', 0);
    expect(apiEnvironment(template)).toMatchObject({
      TABLE_NAME: 'team-stowage-table',
      UPLOADS_BUCKET: 'team-uploads',
    });
    // the upload events of the given bucket reach the queue
    template.resourceCountIs('Custom::S3BucketNotifications', 1);
  });

  it('adds its app client to the given pool and trusts that pool’s tokens', () => {
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', { UserPoolId: 'eu-west-1_AbCdEf123' });
    const authorizer = Object.values(resourcesOf(template, 'AWS::ApiGatewayV2::Authorizer'))[0]!.Properties;
    const issuer = JSON.stringify(authorizer.JwtConfiguration.Issuer);
    expect(issuer).toContain('https://cognito-idp.eu-west-1.');
    expect(issuer).toContain('/eu-west-1_AbCdEf123');
  });

  it('scopes the tenant role to the given bucket and table', () => {
    const roleId = stack.getLogicalId(service.tenantAccessRole!.node.defaultChild as never);
    const text = JSON.stringify(statementsOfRole(template, roleId));
    expect(text).toContain(':table/team-stowage-table');
    expect(text).toContain(`:::team-uploads/tenants/${TENANT_TAG_VARIABLE}/*`);
  });

  it('an imported bucket keeps its policy: synth warns with the deny statement to add', () => {
    const warnings = Annotations.fromStack(stack).findWarning(
      '*',
      Match.stringLikeRegexp('stowage-quarantine=true'),
    );
    expect(warnings).toHaveLength(1);
    Annotations.fromStack(stack).hasWarning(
      '*',
      Match.stringLikeRegexp('existingUploadsBucket: it must be versioned'),
    );
  });

  it('a bucket of the same app gets the deny statement in its own policy', () => {
    const own = ownStack('OwnBucket', (st) => ({
      existingUploadsBucket: new s3.Bucket(st, 'TeamUploads', { versioned: true, enforceSSL: true }),
    }));
    const statements = Object.values(resourcesOf(own.template, 'AWS::S3::BucketPolicy')).flatMap(
      (p) => p.Properties.PolicyDocument.Statement,
    );
    expect(statements.map((s: any) => s.Sid)).toContain(QUARANTINE_DENY_SID);
    expect(
      Annotations.fromStack(own.stack).findWarning('*', Match.stringLikeRegexp('stowage-quarantine=true')),
    ).toEqual([]);
  });

  it('merges *Props over the created resources’ settings', () => {
    const { template: t } = synthService(
      {
        uploadsBucketProps: { transferAcceleration: true },
        tableProps: { contributorInsightsSpecification: { enabled: true } },
        userPoolProps: { userPoolName: 'acme-files' },
      },
      'Tuned',
    );
    t.hasResourceProperties('AWS::S3::Bucket', {
      AccelerateConfiguration: { AccelerationStatus: 'Enabled' },
      VersioningConfiguration: { Status: 'Enabled' },
    });
    t.hasResourceProperties('AWS::DynamoDB::Table', {
      ContributorInsightsSpecification: { Enabled: true },
      KeySchema: [
        { AttributeName: 'PK', KeyType: 'HASH' },
        { AttributeName: 'SK', KeyType: 'RANGE' },
      ],
    });
    t.hasResourceProperties('AWS::Cognito::UserPool', { UserPoolName: 'acme-files', MfaConfiguration: 'ON' });
  });

  it('refuses an unversioned uploads bucket, and a user pool next to an outside issuer', () => {
    expect(() => synthService({ uploadsBucketProps: { versioned: false } }, 'Unversioned')).toThrow(
      /versioned/,
    );
    expect(() =>
      synthService(
        {
          jwtIssuer: 'https://issuer.example.com/',
          jwtAudience: ['a'],
          userPoolProps: { userPoolName: 'x' },
        },
        'Both',
      ),
    ).toThrow(/jwtIssuer replaces the user pool/);
  });
});
