import { afterAll, describe, expect, it } from 'vitest';
import { FUNCTION_ENTRIES } from '../../../infra/constructs/stowage-service.js';
import { WEBHOOK_MAX_RECEIVE_COUNT } from '../../../infra/constructs/webhook-events.js';
import {
  asArray,
  functionFor,
  removeTestOutdirs,
  resourcesOf,
  statementsOfRole,
  synthService,
} from './support/synth.js';

afterAll(removeTestOutdirs);

const { stack, template } = synthService();
const webhooks = stack.service.webhooks;
const logicalId = (c: { node: { defaultChild?: unknown } }) =>
  stack.getLogicalId(c.node.defaultChild as never);
const busId = logicalId(webhooks.eventBus);
const queueId = logicalId(webhooks.queue);
const dlqId = logicalId(webhooks.deadLetterQueue);
const tableId = logicalId(stack.service.table as never);
const fanOut = functionFor(template, FUNCTION_ENTRIES.webhookFanOut);
const delivery = functionFor(template, FUNCTION_ENTRIES.webhookDelivery);
const roleOf = (fn: { resource: any }) => fn.resource.Properties.Role['Fn::GetAtt'][0] as string;
const mappingOf = (fnId: string) =>
  Object.values(resourcesOf(template, 'AWS::Lambda::EventSourceMapping')).filter(
    (m) => m.Properties.FunctionName?.Ref === fnId,
  );
const actionsOn = (statements: any[]) =>
  statements.flatMap((s) => asArray(s.Action).map((a: string) => [a, JSON.stringify(s.Resource)] as const));

describe('the event bus', () => {
  it('is created and exported by name and ARN', () => {
    expect(Object.keys(resourcesOf(template, 'AWS::Events::EventBus'))).toEqual([busId]);
    const outputs = template.toJSON().Outputs as Record<string, any>;
    const exported = Object.values(outputs).filter((o) => o.Export);
    expect(exported).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Value: { Ref: busId } }),
        expect.objectContaining({ Value: { 'Fn::GetAtt': [busId, 'Arn'] } }),
      ]),
    );
    expect(stack.service.eventBus).toBe(webhooks.eventBus);
  });
});

describe('the fan-out', () => {
  it('reads the table stream (new images), filtered to inserted audit event items, with partial batch responses', () => {
    const table = resourcesOf(template, 'AWS::DynamoDB::Table')[tableId];
    expect(table?.Properties.StreamSpecification).toEqual({ StreamViewType: 'NEW_IMAGE' });
    const [mapping] = mappingOf(fanOut.id);
    expect(mapping?.Properties).toMatchObject({
      EventSourceArn: { 'Fn::GetAtt': [tableId, 'StreamArn'] },
      StartingPosition: 'TRIM_HORIZON',
      BisectBatchOnFunctionError: true,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [dlqId, 'Arn'] } } },
    });
    const pattern = JSON.parse(mapping?.Properties.FilterCriteria.Filters[0].Pattern);
    expect(pattern).toEqual({ eventName: ['INSERT'], dynamodb: { NewImage: { entity: { S: ['event'] } } } });
  });

  it('may read the stream, query and write the table, send to the delivery queue and put on the bus, nothing else', () => {
    const actions = actionsOn(statementsOfRole(template, roleOf(fanOut)));
    const names = new Set(actions.map(([a]) => a));
    expect(names).toEqual(
      new Set([
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'dynamodb:DescribeStream',
        'dynamodb:GetRecords',
        'dynamodb:GetShardIterator',
        'dynamodb:Query',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'sqs:SendMessage',
        'sqs:GetQueueAttributes',
        'sqs:GetQueueUrl',
        'events:PutEvents',
      ]),
    );
    for (const [, resource] of actions) expect(resource).not.toBe('"*"');
    expect(fanOut.resource.Properties.Environment.Variables).toMatchObject({
      WEBHOOK_QUEUE_URL: { Ref: queueId },
      EVENT_BUS_NAME: { Ref: busId },
    });
  });
});

describe('the delivery', () => {
  it('consumes the queue with partial batch responses; the queue has a DLQ with an alarm', () => {
    const [mapping] = mappingOf(delivery.id);
    expect(mapping?.Properties).toMatchObject({
      EventSourceArn: { 'Fn::GetAtt': [queueId, 'Arn'] },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BatchSize: 10,
    });
    const queues = resourcesOf(template, 'AWS::SQS::Queue');
    expect(queues[queueId]?.Properties.RedrivePolicy).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] },
      maxReceiveCount: WEBHOOK_MAX_RECEIVE_COUNT,
    });
    // Retention outlives the 24 h schedule plus a last 12 h step.
    expect(queues[queueId]?.Properties.MessageRetentionPeriod).toBeGreaterThanOrEqual(36 * 3600);
    const alarms = Object.values(resourcesOf(template, 'AWS::CloudWatch::Alarm')).filter((a) =>
      (a.Properties.Dimensions ?? []).some((d: any) => d.Value?.['Fn::GetAtt']?.[0] === dlqId),
    );
    expect(alarms).toHaveLength(1);
    expect(alarms[0]?.Properties).toMatchObject({
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Threshold: 1,
      AlarmActions: [expect.anything()],
    });
  });

  it('may read and write items, read webhook secrets only, and send to the DLQ: no S3, no Query, no other secret', () => {
    const statements = statementsOfRole(template, roleOf(delivery));
    const actions = actionsOn(statements);
    const names = new Set(actions.map(([a]) => a));
    for (const needed of [
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'secretsmanager:GetSecretValue',
      'sqs:SendMessage',
    ])
      expect(names).toContain(needed);
    for (const forbidden of ['dynamodb:Query', 'dynamodb:DeleteItem', 'dynamodb:Scan', 'events:PutEvents'])
      expect(names).not.toContain(forbidden);
    expect([...names].some((a) => a.startsWith('s3:'))).toBe(false);
    const secrets = actions.filter(([a]) => a.startsWith('secretsmanager:')).map(([, r]) => r);
    expect(secrets).toHaveLength(1);
    expect(secrets[0]).toMatch(/\/\*\/webhooks\/\*/);
    for (const [, resource] of actions) expect(resource).not.toBe('"*"');
  });
});
