import { Duration } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import { afterAll, describe, expect, it } from 'vitest';
import { FUNCTION_ENTRIES, MAX_RECEIVE_COUNT } from '../../../infra/constructs/stowage-service.js';
import { functionFor, onlyResource, removeTestOutdirs, resourcesOf, synthService } from './support/synth.js';

afterAll(removeTestOutdirs);

const { stack, template } = synthService();
const logicalId = (c: { node: { defaultChild?: unknown } }) =>
  stack.getLogicalId(c.node.defaultChild as never);
const queueId = logicalId(stack.service.uploadEventsQueue);
const dlqId = logicalId(stack.service.uploadEventsDeadLetterQueue);
const queues = resourcesOf(template, 'AWS::SQS::Queue');

describe('upload events', () => {
  it('reach the queue from ObjectCreated under tenants/', () => {
    const { resource } = onlyResource(template, 'Custom::S3BucketNotifications', () => true);
    expect(resource.Properties.NotificationConfiguration.QueueConfigurations).toEqual([
      {
        Events: ['s3:ObjectCreated:*'],
        Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'tenants/' }] } },
        QueueArn: { 'Fn::GetAtt': [queueId, 'Arn'] },
      },
    ]);
  });

  it('are dead-lettered after 5 receives', () => {
    expect(MAX_RECEIVE_COUNT).toBe(5);
    expect(queues[queueId]!.Properties.RedrivePolicy).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] },
      maxReceiveCount: 5,
    });
    expect(queues[dlqId]!.Properties.MessageRetentionPeriod).toBe(Duration.days(14).toSeconds());
  });

  it('stay invisible at least six times the process-upload timeout', () => {
    const timeout = functionFor(template, FUNCTION_ENTRIES.processUpload).resource.Properties.Timeout;
    expect(queues[queueId]!.Properties.VisibilityTimeout).toBeGreaterThanOrEqual(6 * timeout);
  });

  it.each([
    ['queue', queueId],
    ['dead-letter queue', dlqId],
  ])('%s: encrypted at rest, TLS only', (_, id) => {
    expect(queues[id]!.Properties.SqsManagedSseEnabled).toBe(true);
    const policies = Object.values(resourcesOf(template, 'AWS::SQS::QueuePolicy')).filter((p) =>
      p.Properties.Queues.some((q: any) => q.Ref === id),
    );
    expect(policies.flatMap((p) => p.Properties.PolicyDocument.Statement)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      ]),
    );
  });

  it('let only the uploads bucket of this account send to the queue', () => {
    const uploadsId = logicalId(stack.service.uploadsBucket);
    const statements = Object.values(resourcesOf(template, 'AWS::SQS::QueuePolicy'))
      .flatMap((p) => p.Properties.PolicyDocument.Statement)
      .filter((s: any) => s.Effect === 'Allow');
    expect(statements).toEqual([
      expect.objectContaining({
        Principal: { Service: 's3.amazonaws.com' },
        // Bucket names are global: the source account keeps out a same-named bucket elsewhere.
        Condition: {
          ArnLike: { 'aws:SourceArn': { 'Fn::GetAtt': [uploadsId, 'Arn'] } },
          StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
        },
        Resource: { 'Fn::GetAtt': [queueId, 'Arn'] },
      }),
    ]);
  });

  it('are consumed by process-upload with partial batch responses', () => {
    const { id: fnId } = functionFor(template, FUNCTION_ENTRIES.processUpload);
    // The webhook fan-out and delivery have mappings of their own (webhooks.test.ts).
    const mappings = Object.values(resourcesOf(template, 'AWS::Lambda::EventSourceMapping')).filter(
      (m) => m.Properties.FunctionName?.Ref === fnId,
    );
    expect(mappings).toHaveLength(1);
    expect(mappings[0]!.Properties).toMatchObject({
      EventSourceArn: { 'Fn::GetAtt': [queueId, 'Arn'] },
      FunctionName: { Ref: fnId },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BatchSize: 10,
    });
  });
});

describe('the maintenance schedule', () => {
  it('runs the maintenance function every hour', () => {
    const { id: fnId } = functionFor(template, FUNCTION_ENTRIES.maintenance);
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 hour)',
      State: 'ENABLED',
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [fnId, 'Arn'] },
          RetryPolicy: { MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 2 },
        }),
      ],
    });
  });

  it('follows the schedule prop', () => {
    const { template: t } = synthService({
      maintenanceSchedule: events.Schedule.cron({ minute: '15', hour: '3' }),
    });
    t.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'cron(15 3 * * ? *)' });
  });
});
