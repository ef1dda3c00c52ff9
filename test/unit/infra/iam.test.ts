import * as lambda from 'aws-cdk-lib/aws-lambda';
import { afterAll, describe, expect, it } from 'vitest';
import {
  FUNCTION_ENTRIES,
  OPTIONAL_FUNCTION_ENTRIES,
  TENANT_TAG_VARIABLE,
} from '../../../infra/constructs/stowage-service.js';
import { tenantAccessPolicy } from '../../../shared/adapters/tenant-scope/tenant-access-policy.js';
import {
  asArray,
  ENTRIES,
  functionFor,
  removeTestOutdirs,
  resourcesOf,
  statementsOfRole,
  synthService,
} from './support/synth.js';

afterAll(removeTestOutdirs);

const { stack, template } = synthService();
const logicalId = (c: { node: { defaultChild?: unknown } }) =>
  stack.getLogicalId(c.node.defaultChild as never);
const uploadsId = logicalId(stack.service.uploadsBucket);
const previewsId = logicalId(stack.service.previewBucket);
const tableId = logicalId(stack.service.table);
const tenantRoleId = logicalId(stack.service.tenantAccessRole!);

const roleOf = (entry: string, t = template) =>
  functionFor(t, entry).resource.Properties.Role['Fn::GetAtt'][0] as string;
const environmentOf = (entry: string, t = template) =>
  functionFor(t, entry).resource.Properties.Environment.Variables as Record<string, unknown>;
const join = (...parts: unknown[]) => ({ 'Fn::Join': ['', parts] });
const arnOf = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });
const objectsUnder = (bucketId: string, prefix: string) => join(arnOf(bucketId), `/${prefix}*`);

/** The functions whose data calls run in a tenant's STS session. */
/** In the order the trust policy lists them (by logical id). */
const TENANT_SCOPED = [
  FUNCTION_ENTRIES.api,
  OPTIONAL_FUNCTION_ENTRIES.malwareScanResult,
  FUNCTION_ENTRIES.processUpload,
  FUNCTION_ENTRIES.renderPreview,
  FUNCTION_ENTRIES.renderPreviewBrowser,
  OPTIONAL_FUNCTION_ENTRIES.verifyChecksum,
];
const DATA_SERVICES = ['s3:', 'dynamodb:', 'secretsmanager:', 'kms:'];

/** Actions granted on one resource, across a role's statements. */
function actionsOn(statements: any[], resource: unknown): string[] {
  return statements
    .filter(
      (s) =>
        s.Effect === 'Allow' &&
        asArray(s.Resource).some((r) => JSON.stringify(r) === JSON.stringify(resource)),
    )
    .flatMap((s) => asArray(s.Action))
    .sort();
}

/** A template value as text: references become `<LogicalId.Attribute>`, joins are flattened. */
function flat(value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as Record<string, any>;
  if (v['Fn::Join']) return (v['Fn::Join'][1] as unknown[]).map(flat).join(v['Fn::Join'][0]);
  if (v['Fn::GetAtt']) return `<${v['Fn::GetAtt'][0]}.${v['Fn::GetAtt'][1]}>`;
  if (v.Ref) return `<${v.Ref}>`;
  return JSON.stringify(value);
}
const deepFlat = (value: unknown): unknown =>
  Array.isArray(value)
    ? value.map(deepFlat)
    : value && typeof value === 'object' && !('Fn::Join' in value || 'Fn::GetAtt' in value || 'Ref' in value)
      ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, deepFlat(v)]))
      : flat(value);

describe('the tenant access role (tenant isolation, the default)', () => {
  const role = resourcesOf(template, 'AWS::IAM::Role')[tenantRoleId]!.Properties;

  it('may be assumed only by the API, process-upload and render roles, with a tenant tag', () => {
    const principals = TENANT_SCOPED.map((entry) => arnOf(roleOf(entry)));
    expect(role.AssumeRolePolicyDocument.Statement).toEqual([
      {
        Effect: 'Allow',
        Action: ['sts:AssumeRole', 'sts:TagSession'],
        // CDK orders the principals by their tokens: the same set, in its order.
        Principal: { AWS: expect.arrayContaining(principals) },
        Condition: { Null: { 'aws:RequestTag/tenant': 'false' } },
      },
    ]);
    expect(role.AssumeRolePolicyDocument.Statement[0].Principal.AWS).toHaveLength(principals.length);
    expect(role.MaxSessionDuration).toBe(3600);
    expect(role.ManagedPolicyArns).toBeUndefined();
  });

  it('holds, for the tenant its session is tagged with, exactly what tenantAccessPolicy allows', () => {
    // Prepare: what a session tagged tenant=acme may reach, by the one module that says so.
    const session = tenantAccessPolicy('acme', {
      tableArn: flat(arnOf(tableId)),
      uploadsBucketArn: flat(arnOf(uploadsId)),
      previewBucketArn: flat(arnOf(previewsId)),
      secretsArnPrefix:
        'arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:stowage/Test',
    });

    // Act: the role's statements, read as a session tagged tenant=acme sees them.
    const held = statementsOfRole(template, tenantRoleId).map((s) =>
      JSON.parse(JSON.stringify(deepFlat(s)).replaceAll(TENANT_TAG_VARIABLE, 'acme')),
    );

    // Assess: same statements, whatever the order of actions and resources.
    const normal = (statements: any[]) =>
      statements
        .map((s) => ({ ...s, Action: asArray(s.Action).sort(), Resource: asArray(s.Resource).sort() }))
        .sort((a, b) => a.Sid.localeCompare(b.Sid));
    expect(normal(held)).toEqual(normal(session.Statement));
  });

  it('names its tenant in every statement, by resource or by condition', () => {
    for (const s of statementsOfRole(template, tenantRoleId)) {
      const text = JSON.stringify([s.Resource, s.Condition ?? null]);
      expect(text, s.Sid).toContain(TENANT_TAG_VARIABLE);
    }
  });

  it('is named in the environment of the tenant-scoped functions, and nothing a session policy would need', () => {
    for (const entry of TENANT_SCOPED) {
      expect(environmentOf(entry), entry).toMatchObject({
        TENANT_ROLE_ARN: arnOf(tenantRoleId),
        // Presigned URLs die with the (at most one hour) chained session that signed them.
        FILESTORE_UPLOAD_URL_TTL_SECONDS: '600',
        FILESTORE_PART_URL_TTL_SECONDS: '900',
      });
      // The role's own policy scopes by the tag: no ARNs travel to the functions for a session policy.
      for (const name of ['TABLE_ARN', 'SECRETS_ARN_PREFIX', 'KMS_KEY_ARN'])
        expect(environmentOf(entry)[name], name).toBeUndefined();
    }
    const maintenance = environmentOf(FUNCTION_ENTRIES.maintenance);
    for (const name of [
      'TENANT_ROLE_ARN',
      'TABLE_ARN',
      'SECRETS_ARN_PREFIX',
      'FILESTORE_UPLOAD_URL_TTL_SECONDS',
      'FILESTORE_PART_URL_TTL_SECONDS',
    ])
      expect(maintenance[name], name).toBeUndefined();
  });

  it('with a customer managed key, lets sessions use that key (SSE-KMS asks with the session’s rights)', () => {
    const { stack: s, template: t } = synthService({ encryption: 'KMS' }, 'Kms');
    const keyArn = arnOf(s.getLogicalId(s.service.encryptionKey!.node.defaultChild as never));
    const roleId = s.getLogicalId(s.service.tenantAccessRole!.node.defaultChild as never);
    expect(statementsOfRole(t, roleId)).toContainEqual(
      expect.objectContaining({
        Sid: 'DataKey',
        Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
        Resource: keyArn,
      }),
    );
  });
});

describe('function roles', () => {
  it.each(ENTRIES)('%s: no statement on "*" and no managed policy', (entry) => {
    const roleId = roleOf(entry);
    const statements = statementsOfRole(template, roleId);
    expect(statements.length).toBeGreaterThan(0);
    for (const s of statements) expect(asArray(s.Resource), JSON.stringify(s)).not.toContain('*');
    const role = resourcesOf(template, 'AWS::IAM::Role')[roleId]!.Properties;
    expect(role.ManagedPolicyArns).toBeUndefined();
    expect(role.AssumeRolePolicyDocument.Statement).toEqual([
      expect.objectContaining({ Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }),
    ]);
  });

  it.each(TENANT_SCOPED)('%s: no data permission of its own, only the tenant role to assume', (entry) => {
    const statements = statementsOfRole(template, roleOf(entry));
    const data = statements
      .flatMap((s) => asArray(s.Action))
      .filter((a: string) => DATA_SERVICES.some((p) => a.startsWith(p)));
    expect(data).toEqual([]);
    expect(statements.filter((s) => asArray(s.Action).some((a: string) => a.startsWith('sts:')))).toEqual([
      expect.objectContaining({
        Action: ['sts:AssumeRole', 'sts:TagSession'],
        Resource: arnOf(tenantRoleId),
      }),
    ]);
  });

  it('the API and process-upload may invoke the render and checksum functions, maintenance the checksum one, nothing else any', () => {
    const arnFor = (entry: string) => arnOf(functionFor(template, entry).id);
    const byJson = (a: unknown, b: unknown) => JSON.stringify(a).localeCompare(JSON.stringify(b));
    const jobArns = [
      FUNCTION_ENTRIES.renderPreview,
      FUNCTION_ENTRIES.renderPreviewBrowser,
      OPTIONAL_FUNCTION_ENTRIES.verifyChecksum,
    ]
      .map(arnFor)
      .sort(byJson);
    for (const entry of ENTRIES) {
      const invoked = statementsOfRole(template, roleOf(entry))
        .filter((s) => asArray(s.Action).some((a: string) => a.startsWith('lambda:')))
        .flatMap((s) => asArray(s.Resource))
        .sort(byJson);
      if (entry === FUNCTION_ENTRIES.api || entry === FUNCTION_ENTRIES.processUpload)
        expect(invoked, entry).toEqual(jobArns);
      else if (entry === FUNCTION_ENTRIES.maintenance)
        expect(invoked, entry).toEqual([arnFor(OPTIONAL_FUNCTION_ENTRIES.verifyChecksum)]);
      else expect(invoked, entry).toEqual([]);
    }
  });

  describe('maintenance (it sweeps every tenant, so it keeps its own data permissions)', () => {
    const statements = statementsOfRole(template, roleOf(FUNCTION_ENTRIES.maintenance));

    it('objects only under tenants/ and quarantine/, never a whole bucket', () => {
      const s3Resources = statements
        .filter((s) => asArray(s.Action).some((a: string) => a.startsWith('s3:')))
        .flatMap((s) => asArray(s.Resource));
      const allowed = [
        arnOf(uploadsId),
        arnOf(previewsId),
        objectsUnder(uploadsId, 'tenants/'),
        objectsUnder(uploadsId, 'quarantine/'),
        objectsUnder(previewsId, 'tenants/'),
      ];
      for (const r of s3Resources) expect(allowed).toContainEqual(r);
      expect(actionsOn(statements, arnOf(uploadsId))).toEqual(['s3:ListBucket']);
      expect(actionsOn(statements, arnOf(previewsId))).toEqual(['s3:ListBucket']);
      expect(actionsOn(statements, objectsUnder(uploadsId, 'quarantine/'))).toEqual(['s3:PutObject']);
    });

    it('exactly the object actions its code uses: purge, abandon, late validation, preview expiry', () => {
      // versions: the sweep reads and deletes the validated version by VersionId; tagging:
      // quarantine, and GuardDuty's verdict read where a lost scan is asked again
      expect(actionsOn(statements, objectsUnder(uploadsId, 'tenants/'))).toEqual([
        's3:AbortMultipartUpload',
        's3:DeleteObject',
        's3:DeleteObjectVersion',
        's3:GetObject',
        's3:GetObjectTagging',
        's3:GetObjectVersion',
        's3:GetObjectVersionTagging',
        's3:PutObjectTagging',
        's3:PutObjectVersionTagging',
      ]);
      expect(actionsOn(statements, objectsUnder(previewsId, 'tenants/'))).toEqual(['s3:DeleteObject']);
    });

    it('the table and its indexes, and provider secrets to read', () => {
      const dynamo = statements.filter((s) =>
        asArray(s.Action).some((a: string) => a.startsWith('dynamodb:')),
      );
      expect(dynamo.flatMap((s) => asArray(s.Resource))).toEqual([
        arnOf(tableId),
        join(arnOf(tableId), '/index/*'),
      ]);
      const secrets = statements.filter((s) =>
        asArray(s.Action).some((a: string) => a.startsWith('secretsmanager:')),
      );
      expect(secrets).toEqual([expect.objectContaining({ Action: 'secretsmanager:GetSecretValue' })]);
      expect(flat(secrets[0].Resource)).toContain(':secret:stowage/Test/*');
    });
  });

  it.each(ENTRIES)('%s: writes logs only to its own log group', (entry) => {
    const { resource } = functionFor(template, entry);
    const logGroupId = resource.Properties.LoggingConfig.LogGroup.Ref;
    const logs = statementsOfRole(template, roleOf(entry)).filter((s) =>
      asArray(s.Action).some((a: string) => a.startsWith('logs:')),
    );
    expect(logs).toEqual([
      expect.objectContaining({
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: { 'Fn::GetAtt': [logGroupId, 'Arn'] },
      }),
    ]);
  });

  it.each([true, false])(
    'without the quarantine (isolation %s), no role may touch quarantine/',
    (isolation) => {
      const { template: t } = synthService(
        { quarantineRejected: false, tenantIsolation: isolation },
        `Q${isolation}`,
      );
      for (const entry of ENTRIES)
        expect(JSON.stringify(statementsOfRole(t, roleOf(entry, t)))).not.toContain('quarantine/');
      for (const [id] of Object.entries(resourcesOf(t, 'AWS::IAM::Role')))
        expect(JSON.stringify(statementsOfRole(t, id)), id).not.toContain('quarantine/');
    },
  );

  it('only the queue consumer may read the queue', () => {
    const queueArn = arnOf(logicalId(stack.service.uploadEventsQueue));
    for (const entry of ENTRIES) {
      const sqs = actionsOn(statementsOfRole(template, roleOf(entry)), queueArn);
      if (entry === FUNCTION_ENTRIES.processUpload) expect(sqs).toContain('sqs:ReceiveMessage');
      else expect(sqs).toEqual([]);
    }
  });

  it('with X-Ray tracing, the one "*" is the X-Ray write that has no resource ARN', () => {
    const { template: t } = synthService({ tracing: lambda.Tracing.ACTIVE }, 'Traced');
    const wildcard = statementsOfRole(t, roleOf(FUNCTION_ENTRIES.api, t)).filter((s) =>
      asArray(s.Resource).includes('*'),
    );
    expect(wildcard.flatMap((s) => asArray(s.Action)).sort()).toEqual([
      'xray:PutTelemetryRecords',
      'xray:PutTraceSegments',
    ]);
  });
});

describe('without tenant isolation (tenantIsolation: false)', () => {
  const { template: t } = synthService({ tenantIsolation: false }, 'Direct');
  const direct = (entry: string) => statementsOfRole(t, roleOf(entry, t));

  it('creates no tenant role and names none', () => {
    const roles = Object.values(resourcesOf(t, 'AWS::IAM::Role')).map((r) => r.Properties.Description);
    expect(roles.filter((d) => String(d).includes('tenant'))).toEqual([]);
    for (const entry of ENTRIES) {
      expect(environmentOf(entry, t).TENANT_ROLE_ARN).toBeUndefined();
      expect(JSON.stringify(direct(entry))).not.toContain('sts:');
    }
  });

  it.each([
    [
      FUNCTION_ENTRIES.api,
      [
        's3:AbortMultipartUpload',
        's3:DeleteObject',
        's3:DeleteObjectVersion',
        's3:GetObject',
        's3:GetObjectTagging',
        's3:GetObjectVersion',
        's3:GetObjectVersionTagging',
        's3:ListMultipartUploadParts',
        's3:PutObject',
        's3:PutObjectTagging',
        's3:PutObjectVersionTagging',
      ],
      ['s3:DeleteObject', 's3:GetObject'],
    ],
    [
      FUNCTION_ENTRIES.processUpload,
      [
        's3:DeleteObject',
        's3:DeleteObjectVersion',
        's3:GetObject',
        's3:GetObjectTagging',
        's3:GetObjectVersion',
        's3:GetObjectVersionTagging',
        's3:PutObjectTagging',
        's3:PutObjectVersionTagging',
      ],
      [],
    ],
    [
      FUNCTION_ENTRIES.renderPreview,
      ['s3:GetObject', 's3:GetObjectVersion'],
      ['s3:DeleteObject', 's3:PutObject'],
    ],
  ])('%s: exactly the object actions its code uses, under tenants/ only', (entry, uploads, previews) => {
    const statements = direct(entry);
    expect(actionsOn(statements, objectsUnder(uploadsId, 'tenants/'))).toEqual(uploads);
    expect(actionsOn(statements, objectsUnder(previewsId, 'tenants/'))).toEqual(previews);
    expect(actionsOn(statements, arnOf(uploadsId))).toEqual(['s3:ListBucket']);
    const s3Resources = statements
      .filter((s) => asArray(s.Action).some((a: string) => a.startsWith('s3:')))
      .flatMap((s) => asArray(s.Resource));
    for (const r of s3Resources)
      expect([
        arnOf(uploadsId),
        arnOf(previewsId),
        objectsUnder(uploadsId, 'tenants/'),
        objectsUnder(uploadsId, 'quarantine/'),
        objectsUnder(previewsId, 'tenants/'),
      ]).toContainEqual(r);
  });

  it.each([
    [
      FUNCTION_ENTRIES.api,
      ['CreateSecret', 'DeleteSecret', 'GetSecretValue', 'PutSecretValue', 'TagResource'],
    ],
    [FUNCTION_ENTRIES.processUpload, ['GetSecretValue']],
    [FUNCTION_ENTRIES.renderPreview, ['GetSecretValue']],
  ])('%s: the table and its indexes, and provider secrets under the deployment prefix', (entry, actions) => {
    const statements = direct(entry);
    const dynamo = statements.filter((s) => asArray(s.Action).some((a: string) => a.startsWith('dynamodb:')));
    expect(dynamo.flatMap((s) => asArray(s.Resource))).toEqual([
      arnOf(tableId),
      join(arnOf(tableId), '/index/*'),
    ]);
    expect(dynamo.flatMap((s) => asArray(s.Action))).not.toContain('dynamodb:*');
    const secrets = statements.filter((s) =>
      asArray(s.Action).some((a: string) => a.startsWith('secretsmanager:')),
    );
    expect(secrets).toHaveLength(1);
    expect(asArray(secrets[0].Action).sort()).toEqual(actions.map((a) => `secretsmanager:${a}`));
    expect(flat(secrets[0].Resource)).toContain(':secret:stowage/Direct/*');
  });
});
