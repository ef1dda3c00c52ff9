import { Stack } from 'aws-cdk-lib';
import * as sns from 'aws-cdk-lib/aws-sns';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ENTRIES,
  functionFor,
  removeTestOutdirs,
  resourcesOf,
  synthService,
  testApp,
} from './support/synth.js';

afterAll(removeTestOutdirs);

const { stack, template } = synthService();
const logicalId = (c: { node: { defaultChild?: unknown } }) =>
  stack.getLogicalId(c.node.defaultChild as never);
const alarms = Object.values(resourcesOf(template, 'AWS::CloudWatch::Alarm')).map((a) => a.Properties);
const topicId = Object.keys(resourcesOf(template, 'AWS::SNS::Topic'))[0]!;

const alarmOn = (metricName: string, dimension: { Name: string; Value: unknown }) =>
  alarms.filter(
    (a) =>
      a.MetricName === metricName &&
      (a.Dimensions ?? []).some(
        (d: any) => d.Name === dimension.Name && JSON.stringify(d.Value) === JSON.stringify(dimension.Value),
      ),
  );

describe('alarms', () => {
  it('fire when an upload event reaches the dead-letter queue', () => {
    const dlq = {
      Name: 'QueueName',
      Value: { 'Fn::GetAtt': [logicalId(stack.service.uploadEventsDeadLetterQueue), 'QueueName'] },
    };
    const [alarm] = alarmOn('ApproximateNumberOfMessagesVisible', dlq);
    expect(alarm).toMatchObject({
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Statistic: 'Maximum',
    });
  });

  it.each(ENTRIES)('fire on errors and on throttles of %s', (entry) => {
    const fn = { Name: 'FunctionName', Value: { Ref: functionFor(template, entry).id } };
    expect(alarmOn('Errors', fn)).toHaveLength(1);
    expect(alarmOn('Throttles', fn)).toHaveLength(1);
  });

  it('fire on any API 5xx', () => {
    const api = { Name: 'ApiId', Value: { Ref: logicalId(stack.service.httpApi) } };
    expect(alarmOn('5xx', api)).toEqual([
      expect.objectContaining({ Namespace: 'AWS/ApiGateway', Statistic: 'Sum', Threshold: 1 }),
    ]);
  });

  it('all notify the alarm topic, on alarm and on recovery', () => {
    expect(alarms).toHaveLength(2 + 2 * ENTRIES.length);
    for (const a of alarms) {
      expect(a.AlarmActions).toEqual([{ Ref: topicId }]);
      expect(a.OKActions).toEqual([{ Ref: topicId }]);
      expect(a.TreatMissingData).toBe('notBreaching');
    }
  });

  it('the created topic takes TLS only and lets CloudWatch publish this account’s alarms', () => {
    const statements = Object.values(resourcesOf(template, 'AWS::SNS::TopicPolicy')).flatMap(
      (p) => p.Properties.PolicyDocument.Statement,
    );
    expect(statements).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        expect.objectContaining({
          Effect: 'Allow',
          Principal: { Service: 'cloudwatch.amazonaws.com' },
          Action: 'sns:Publish',
          Condition: expect.objectContaining({
            StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
          }),
        }),
      ]),
    );
  });

  it('go to a given topic instead, creating none', () => {
    const { template: t } = synthService({
      alarmTopic: sns.Topic.fromTopicArn(
        new Stack(testApp(), 'Ops'),
        'Ops',
        'arn:aws:sns:eu-west-1:123456789012:ops',
      ),
    });
    t.resourceCountIs('AWS::SNS::Topic', 0);
    for (const a of Object.values(resourcesOf(t, 'AWS::CloudWatch::Alarm')))
      expect(a.Properties.AlarmActions).toEqual(['arn:aws:sns:eu-west-1:123456789012:ops']);
  });
});

describe('the dashboard', () => {
  const body = JSON.stringify(
    Object.values(resourcesOf(template, 'AWS::CloudWatch::Dashboard'))[0]!.Properties.DashboardBody,
  );

  it.each([
    ['API latency', 'Latency'],
    ['API errors', '5xx'],
    ['function errors', 'Errors'],
    ['DLQ depth', 'ApproximateNumberOfMessagesVisible'],
    ['processed upload events', 'NumberOfMessagesDeleted'],
    ['validation failures', 'UploadValidationFailures'],
    ['maintenance results', 'Maintenance_purged'],
  ])('shows %s', (_, metric) => {
    expect(body).toContain(metric);
  });

  it('reads the functions’ JSON log lines through metric filters', () => {
    const filters = Object.values(resourcesOf(template, 'AWS::Logs::MetricFilter')).map((f) => f.Properties);
    expect(filters.map((f) => f.FilterPattern)).toEqual(
      expect.arrayContaining([
        '{ $.message = "object validation failed" }',
        '{ $.message = "maintenance run" }',
      ]),
    );
    expect(filters.map((f) => f.MetricTransformations[0].MetricNamespace)).toEqual(
      filters.map(() => 'Stowage/Test'),
    );
  });
});
