import * as lambda from 'aws-cdk-lib/aws-lambda';
import { afterAll, describe, expect, it } from 'vitest';
import { FUNCTION_ENTRIES } from '../../../infra/constructs/stowage-service.js';
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
const tableId = logicalId(stack.service.table);

const roleOf = (entry: string) =>
  functionFor(template, entry).resource.Properties.Role['Fn::GetAtt'][0] as string;
const join = (...parts: unknown[]) => ({ 'Fn::Join': ['', parts] });
const uploadsArn = { 'Fn::GetAtt': [uploadsId, 'Arn'] };
const objectsUnder = (prefix: string) => join(uploadsArn, `/${prefix}*`);

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

  it.each(ENTRIES)('%s: objects only under tenants/ and quarantine/, never the whole bucket', (entry) => {
    const statements = statementsOfRole(template, roleOf(entry));
    const s3Resources = statements
      .filter((s) => asArray(s.Action).some((a: string) => a.startsWith('s3:')))
      .flatMap((s) => asArray(s.Resource));
    for (const r of s3Resources)
      expect([uploadsArn, objectsUnder('tenants/'), objectsUnder('quarantine/')]).toContainEqual(r);
    expect(actionsOn(statements, uploadsArn)).toEqual(['s3:ListBucket']);
    expect(actionsOn(statements, objectsUnder('quarantine/'))).toEqual(['s3:PutObject']);
  });

  it.each([
    [FUNCTION_ENTRIES.api, ['s3:AbortMultipartUpload', 's3:DeleteObject', 's3:GetObject', 's3:PutObject']],
    [FUNCTION_ENTRIES.processUpload, ['s3:DeleteObject', 's3:GetObject']],
    [FUNCTION_ENTRIES.maintenance, ['s3:AbortMultipartUpload', 's3:DeleteObject', 's3:GetObject']],
  ])('%s: exactly the object actions its code uses', (entry, expected) => {
    expect(actionsOn(statementsOfRole(template, roleOf(entry)), objectsUnder('tenants/'))).toEqual(expected);
  });

  it.each(ENTRIES)('%s: the table and its indexes, nothing else in DynamoDB', (entry) => {
    const statements = statementsOfRole(template, roleOf(entry));
    const dynamo = statements.filter((s) => asArray(s.Action).some((a: string) => a.startsWith('dynamodb:')));
    expect(dynamo.flatMap((s) => asArray(s.Resource))).toEqual([
      { 'Fn::GetAtt': [tableId, 'Arn'] },
      join({ 'Fn::GetAtt': [tableId, 'Arn'] }, '/index/*'),
    ]);
    expect(dynamo.flatMap((s) => asArray(s.Action))).not.toContain('dynamodb:*');
  });

  it.each([
    [
      FUNCTION_ENTRIES.api,
      ['CreateSecret', 'DeleteSecret', 'GetSecretValue', 'PutSecretValue', 'TagResource'],
    ],
    [FUNCTION_ENTRIES.processUpload, ['GetSecretValue']],
    [FUNCTION_ENTRIES.maintenance, ['GetSecretValue']],
  ])('%s: provider secrets under the deployment prefix only', (entry, actions) => {
    const statements = statementsOfRole(template, roleOf(entry)).filter((s) =>
      asArray(s.Action).some((a: string) => a.startsWith('secretsmanager:')),
    );
    expect(statements).toHaveLength(1);
    expect(asArray(statements[0].Action).sort()).toEqual(actions.map((a) => `secretsmanager:${a}`));
    const resource = JSON.stringify(statements[0].Resource);
    expect(resource).toContain(':secretsmanager:');
    expect(resource).toContain(':secret:stowage/Test/*');
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

  it('without the quarantine, no function may write under quarantine/', () => {
    const { template: t } = synthService({ quarantineRejected: false });
    for (const entry of ENTRIES) {
      const roleId = functionFor(t, entry).resource.Properties.Role['Fn::GetAtt'][0];
      expect(JSON.stringify(statementsOfRole(t, roleId))).not.toContain('/quarantine/');
    }
  });

  it('only the queue consumer may read the queue', () => {
    const queueArn = { 'Fn::GetAtt': [logicalId(stack.service.uploadEventsQueue), 'Arn'] };
    for (const entry of ENTRIES) {
      const sqs = actionsOn(statementsOfRole(template, roleOf(entry)), queueArn);
      if (entry === FUNCTION_ENTRIES.processUpload) expect(sqs).toContain('sqs:ReceiveMessage');
      else expect(sqs).toEqual([]);
    }
  });

  it('with X-Ray tracing, the one "*" is the X-Ray write that has no resource ARN', () => {
    const { template: t } = synthService({ tracing: lambda.Tracing.ACTIVE });
    const roleId = functionFor(t, FUNCTION_ENTRIES.api).resource.Properties.Role['Fn::GetAtt'][0];
    const wildcard = statementsOfRole(t, roleId).filter((s) => asArray(s.Resource).includes('*'));
    expect(wildcard.flatMap((s) => asArray(s.Action)).sort()).toEqual([
      'xray:PutTelemetryRecords',
      'xray:PutTraceSegments',
    ]);
  });
});
