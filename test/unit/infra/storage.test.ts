import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { afterAll, describe, expect, it } from 'vitest';
import { objectKeys } from '../../../shared/domain/keys.js';
import { previewLifecycleDays } from '../../../shared/domain/preview.js';
import { onlyResource, removeTestOutdirs, resourcesOf, synthService } from './support/synth.js';

afterAll(removeTestOutdirs);

const { stack, template } = synthService();
const id = (construct: { node: { defaultChild?: unknown } }) =>
  stack.getLogicalId(construct.node.defaultChild as never);
const uploadsId = id(stack.service.uploadsBucket);
const previewsId = id(stack.service.previewBucket);
const logsId = id(stack.service.accessLogBucket);
const bucket = (logicalId: string) => resourcesOf(template, 'AWS::S3::Bucket')[logicalId]!;

describe('every bucket', () => {
  it.each([
    ['uploads', uploadsId],
    ['preview cache', previewsId],
    ['access logs', logsId],
  ])('%s: public access blocked, encrypted, owner-enforced', (_, logicalId) => {
    // Prepare / Act
    const props = bucket(logicalId).Properties;

    // Assess
    expect(props.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(props.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault).toEqual(
      {
        SSEAlgorithm: 'AES256',
      },
    );
    expect(props.OwnershipControls.Rules).toEqual([{ ObjectOwnership: 'BucketOwnerEnforced' }]);
  });

  it.each([
    ['uploads', uploadsId],
    ['preview cache', previewsId],
    ['access logs', logsId],
  ])('%s: its policy denies requests without TLS 1.2+', (_, logicalId) => {
    const { resource } = onlyResource(
      template,
      'AWS::S3::BucketPolicy',
      (p) => p.Properties.Bucket.Ref === logicalId,
    );
    const statements = resource.Properties.PolicyDocument.Statement;
    expect(statements).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          Effect: 'Deny',
          Action: 's3:*',
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        }),
        expect.objectContaining({
          Effect: 'Deny',
          Action: 's3:*',
          Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } },
        }),
      ]),
    );
  });

  it('uploads and previews write server access logs to the access-log bucket', () => {
    for (const [logicalId, prefix] of [
      [uploadsId, 'uploads/'],
      [previewsId, 'previews/'],
    ]) {
      expect(bucket(logicalId!).Properties.LoggingConfiguration).toEqual({
        DestinationBucketName: { Ref: logsId },
        LogFilePrefix: prefix,
      });
    }
    expect(bucket(logsId).Properties.LifecycleConfiguration.Rules).toEqual([
      expect.objectContaining({ ExpirationInDays: 90, Status: 'Enabled' }),
    ]);
  });
});

describe('the uploads bucket', () => {
  const props = () => bucket(uploadsId).Properties;

  it('is versioned', () => {
    expect(props().VersioningConfiguration).toEqual({ Status: 'Enabled' });
  });

  it('lets browsers PUT and POST and read the ETag of each part', () => {
    expect(props().CorsConfiguration.CorsRules).toEqual([
      expect.objectContaining({
        AllowedMethods: expect.arrayContaining(['PUT', 'POST', 'GET', 'HEAD']),
        AllowedOrigins: ['*'],
        ExposedHeaders: ['ETag'],
      }),
    ]);
  });

  it('aborts incomplete multipart uploads after 1 day, expires old versions and the quarantine', () => {
    const rules = props().LifecycleConfiguration.Rules;
    expect(rules).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
          Status: 'Enabled',
        }),
        expect.objectContaining({ NoncurrentVersionExpiration: { NoncurrentDays: 7 }, Status: 'Enabled' }),
        expect.objectContaining({ Prefix: 'quarantine/', ExpirationInDays: 30, Status: 'Enabled' }),
      ]),
    );
    // Nothing outside the quarantine expires by age: files live until the service deletes them.
    expect(rules.filter((r: any) => r.ExpirationInDays !== undefined && r.Prefix !== 'quarantine/')).toEqual(
      [],
    );
  });

  it('sends ObjectCreated events only for tenant objects', () => {
    const { resource } = onlyResource(template, 'Custom::S3BucketNotifications', () => true);
    expect(resource.Properties.BucketName).toEqual({ Ref: uploadsId });
    expect(resource.Properties.NotificationConfiguration.QueueConfigurations).toEqual([
      expect.objectContaining({
        Events: ['s3:ObjectCreated:*'],
        Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'tenants/' }] } },
      }),
    ]);
  });

  it('uses the key roots shared/domain/keys.ts builds under', () => {
    const { tenantsRoot, quarantineRoot } = objectKeys;
    expect([tenantsRoot, quarantineRoot]).toEqual(['tenants/', 'quarantine/']);
    expect(objectKeys.file('t1', 'b1', 'f1').startsWith(tenantsRoot)).toBe(true);
    expect(objectKeys.preview('t1', 'f1', 'page1').startsWith(tenantsRoot)).toBe(true);
    expect(objectKeys.quarantine('t1', 'b1', 'f1').startsWith(quarantineRoot)).toBe(true);
    expect(objectKeys.quarantine('t1', 'b1', 'f1').startsWith(tenantsRoot)).toBe(false);
  });
});

describe('the preview cache bucket', () => {
  it('expires previews after PREVIEW_CACHE_MAX_AGE (7 days by default)', () => {
    expect(bucket(previewsId).Properties.LifecycleConfiguration.Rules).toEqual(
      expect.arrayContaining([expect.objectContaining({ Id: 'expire-previews', ExpirationInDays: 7 })]),
    );
  });

  it.each([
    [Duration.millis(1), 1],
    [Duration.millis(86_400_000), 1],
    [Duration.millis(86_400_001), 2],
    [Duration.millis(90_000_000), 2],
    [Duration.days(30), 30],
  ])('rounds a max age of %s up to %i whole days', (maxAge, days) => {
    expect(previewLifecycleDays(maxAge.toMilliseconds())).toBe(days);
    const { template: t } = synthService({ previewCacheMaxAge: maxAge });
    t.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: Match.arrayWith([Match.objectLike({ Id: 'expire-previews', ExpirationInDays: days })]),
      },
    });
    t.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({ PREVIEW_CACHE_MAX_AGE: String(maxAge.toMilliseconds()) }),
      },
    });
  });
});

describe('removal policy', () => {
  it('keeps buckets and table by default, with deletion protection', () => {
    for (const b of Object.values(resourcesOf(template, 'AWS::S3::Bucket')))
      expect(b.DeletionPolicy).toBe('Retain');
    const [table] = Object.values(resourcesOf(template, 'AWS::DynamoDB::Table'));
    expect(table!.DeletionPolicy).toBe('Retain');
    expect(table!.Properties.DeletionProtectionEnabled).toBe(true);
    template.resourceCountIs('Custom::S3AutoDeleteObjects', 0);
  });

  it('DESTROY deletes and empties the buckets', () => {
    const { template: t } = synthService({ removalPolicy: RemovalPolicy.DESTROY });
    for (const b of Object.values(resourcesOf(t, 'AWS::S3::Bucket'))) expect(b.DeletionPolicy).toBe('Delete');
    t.resourceCountIs('Custom::S3AutoDeleteObjects', 3);
    t.hasResourceProperties('AWS::DynamoDB::Table', { DeletionProtectionEnabled: false });
  });
});

describe('KMS encryption', () => {
  const { stack: kmsStack, template: t } = synthService({ encryption: 'KMS' });
  const keyId = kmsStack.getLogicalId(kmsStack.service.encryptionKey!.node.defaultChild as never);

  it('encrypts uploads, previews and the table with one rotated customer managed key', () => {
    t.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    const kmsBuckets = Object.values(resourcesOf(t, 'AWS::S3::Bucket')).filter(
      (b) =>
        b.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault
          .SSEAlgorithm === 'aws:kms',
    );
    expect(kmsBuckets).toHaveLength(2);
    for (const b of kmsBuckets) {
      expect(b.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0]).toEqual({
        ServerSideEncryptionByDefault: {
          SSEAlgorithm: 'aws:kms',
          KMSMasterKeyID: { 'Fn::GetAtt': [keyId, 'Arn'] },
        },
        BucketKeyEnabled: true,
      });
    }
    t.hasResourceProperties('AWS::DynamoDB::Table', {
      SSESpecification: {
        SSEEnabled: true,
        SSEType: 'KMS',
        KMSMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] },
      },
    });
  });

  it('lets the roles that touch data use the key, and only that key', () => {
    const roleIds = [kmsStack.service.maintenanceFunction.role!, kmsStack.service.tenantAccessRole!].map(
      (r) => kmsStack.getLogicalId(r.node.defaultChild as never),
    );
    for (const roleId of roleIds) {
      const kmsStatements = Object.values(resourcesOf(t, 'AWS::IAM::Policy'))
        .filter((p) => p.Properties.Roles.some((r: any) => r.Ref === roleId))
        .flatMap((p) => p.Properties.PolicyDocument.Statement)
        .filter((s: any) => [s.Action].flat().some((a: string) => a.startsWith('kms:')));
      expect(kmsStatements.length, roleId).toBeGreaterThan(0);
      for (const s of kmsStatements) expect(s.Resource).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
      expect(
        kmsStatements.flatMap((s: any) => [s.Action].flat()),
        roleId,
      ).toEqual(expect.arrayContaining(['kms:Decrypt', expect.stringMatching(/^kms:GenerateDataKey\*?$/)]));
    }
  });
});
