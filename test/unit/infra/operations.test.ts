import { Stack } from 'aws-cdk-lib';
import * as sns from 'aws-cdk-lib/aws-sns';
import { afterAll, describe, expect, it } from 'vitest';
import { FUNCTION_ENTRIES, OPTIONAL_FUNCTION_ENTRIES } from '../../../infra/constructs/stowage-service.js';
import {
  STS_LIMITS,
  TENANT_SESSION_LOG_MESSAGE,
} from '../../../shared/adapters/tenant-scope/tenant-credentials.js';
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

/** The two render functions: PDFs and images on arm64, what Chromium draws on x86_64. */
const RENDERERS = [FUNCTION_ENTRIES.renderPreview, FUNCTION_ENTRIES.renderPreviewBrowser] as string[];

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

  const direct = ENTRIES.filter((e) => !RENDERERS.includes(e));
  it.each(direct)('fire on errors and on throttles of %s', (entry) => {
    const fn = { Name: 'FunctionName', Value: { Ref: functionFor(template, entry).id } };
    expect(alarmOn('Errors', fn)).toHaveLength(1);
    expect(alarmOn('Throttles', fn)).toHaveLength(1);
  });

  it.each(RENDERERS)(
    'fire on errors of render function %s and on render events Lambda dropped, not on its throttles',
    (entry) => {
      // Its reserved concurrency throttles bursts on purpose; Lambda keeps those events and retries.
      const fn = { Name: 'FunctionName', Value: { Ref: functionFor(template, entry).id } };
      expect(alarmOn('Errors', fn)).toHaveLength(1);
      expect(alarmOn('AsyncEventsDropped', fn)).toEqual([
        expect.objectContaining({ Namespace: 'AWS/Lambda', Statistic: 'Sum', Threshold: 1 }),
      ]);
      expect(alarmOn('Throttles', fn)).toEqual([]);
    },
  );

  it('fire on any API 5xx', () => {
    const api = { Name: 'ApiId', Value: { Ref: logicalId(stack.service.httpApi) } };
    expect(alarmOn('5xx', api)).toEqual([
      expect.objectContaining({ Namespace: 'AWS/ApiGateway', Statistic: 'Sum', Threshold: 1 }),
    ]);
  });

  it('fire when a tenant session takes more than 80 % of STS’s packed size (PackedPolicySize)', () => {
    // Prepare: the metric every tenant-scoped function publishes from its session log line.
    const packedOf = (a: any) => a.Metrics?.[0]?.MetricStat;
    const [alarm] = alarms.filter((a) => packedOf(a)?.Metric.MetricName === 'TenantSessionPackedPolicySize');
    const filters = Object.values(resourcesOf(template, 'AWS::Logs::MetricFilter'))
      .map((f) => f.Properties)
      .filter((f) => f.MetricTransformations[0].MetricName === 'TenantSessionPackedPolicySize');

    // Assess
    expect(alarm).toMatchObject({
      Threshold: STS_LIMITS.packedPolicyAlarmPercent,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    expect(packedOf(alarm)).toMatchObject({ Stat: 'Maximum', Unit: 'Percent' });
    const scoped = [
      FUNCTION_ENTRIES.api,
      FUNCTION_ENTRIES.processUpload,
      FUNCTION_ENTRIES.renderPreview,
      FUNCTION_ENTRIES.renderPreviewBrowser,
      OPTIONAL_FUNCTION_ENTRIES.verifyChecksum,
      OPTIONAL_FUNCTION_ENTRIES.malwareScanResult,
    ];
    expect(filters.map((f) => f.LogGroupName).sort()).toEqual(
      scoped.map((entry) => functionFor(template, entry).resource.Properties.LoggingConfig.LogGroup).sort(),
    );
    for (const f of filters) {
      expect(f.FilterPattern).toContain(`$.message = "${TENANT_SESSION_LOG_MESSAGE}"`);
      expect(f.MetricTransformations[0].MetricValue).toBe('$.packedPolicySize');
    }
    // Without tenant sessions there is nothing to watch.
    const { template: direct } = synthService({ tenantIsolation: false }, 'DirectOps');
    expect(
      Object.values(resourcesOf(direct, 'AWS::CloudWatch::Alarm')).filter(
        (a) => packedOf(a.Properties)?.Metric.MetricName === 'TenantSessionPackedPolicySize',
      ),
    ).toEqual([]);
  });

  it('all notify the alarm topic, on alarm and on recovery', () => {
    // The two DLQs (uploads, webhooks), API 5xx, tenant sessions near STS's packed limit, and two per function.
    expect(alarms).toHaveLength(4 + 2 * ENTRIES.length);
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
    ['accepted uploads', 'UploadsAccepted'],
    ['rejected uploads', 'UploadsRejected'],
    ['preview render time', 'PreviewRenderMs'],
    ['render events dropped', 'AsyncEventsDropped'],
  ])('shows %s', (_, metric) => {
    expect(body).toContain(metric);
  });

  it('shows the preview cache hit ratio, computed from hits and misses', () => {
    const widgets = JSON.parse(
      flatBody(
        Object.values(resourcesOf(template, 'AWS::CloudWatch::Dashboard'))[0]!.Properties.DashboardBody,
      ),
    ).widgets as any[];
    const ratio = widgets.find((w) => w.properties.title === 'Preview cache hit ratio (%)');
    expect(JSON.stringify(ratio.properties.metrics)).toContain('100 * hits / (hits + misses)');
    expect(JSON.stringify(ratio.properties.metrics)).toContain('PreviewHits');
    expect(JSON.stringify(ratio.properties.metrics)).toContain('PreviewMisses');
    const renders = widgets.find((w) => w.properties.title === 'Preview render time (ms)');
    expect(JSON.stringify(renders.properties.metrics)).toMatch(/PreviewRenderMs.*"stat":"p90"/);
  });

  it('reads the functions’ JSON log lines through metric filters', () => {
    const filters = Object.values(resourcesOf(template, 'AWS::Logs::MetricFilter')).map((f) => f.Properties);
    expect(filters.map((f) => f.FilterPattern)).toEqual(
      expect.arrayContaining([
        '{ $.message = "object validation failed" }',
        '{ $.message = "maintenance run" }',
      ]),
    );
    // Each log line counted from the functions that write it, all into one metric.
    const logGroupOf = (entry: string) =>
      functionFor(template, entry).resource.Properties.LoggingConfig.LogGroup;
    const from = (metricName: string) =>
      filters
        .filter((f) => f.MetricTransformations[0].MetricName === metricName)
        .map((f) => ({
          pattern: f.FilterPattern,
          logGroup: f.LogGroupName,
          value: f.MetricTransformations[0].MetricValue,
        }));
    const validators = [FUNCTION_ENTRIES.api, FUNCTION_ENTRIES.processUpload].map(logGroupOf);
    expect(from('UploadsAccepted')).toEqual(
      validators.map((logGroup) => ({
        pattern: '{ ($.message = "upload validated") && ($.outcome = "active") }',
        logGroup,
        value: '1',
      })),
    );
    expect(from('UploadsRejected').map((f) => f.pattern)).toEqual([
      '{ ($.message = "upload validated") && ($.outcome = "rejected") }',
      '{ ($.message = "upload validated") && ($.outcome = "rejected") }',
    ]);
    expect(from('PreviewHits')).toEqual([
      {
        pattern: '{ ($.message = "preview cache") && ($.outcome = "hit") }',
        logGroup: logGroupOf(FUNCTION_ENTRIES.api),
        value: '1',
      },
    ]);
    expect(from('PreviewMisses').map((f) => f.pattern)).toEqual([
      '{ ($.message = "preview cache") && ($.outcome = "miss") }',
    ]);
    expect(from('PreviewRenderMs')).toEqual(
      RENDERERS.map((entry) => ({
        pattern: '{ ($.message = "preview rendered") && ($.outcome = "ready") }',
        logGroup: logGroupOf(entry),
        value: '$.renderMs',
      })),
    );
    expect(filters.map((f) => f.MetricTransformations[0].MetricNamespace)).toEqual(
      filters.map(() => 'Stowage/Test'),
    );
  });
});

/** A dashboard body (a Fn::Join of text and references) as JSON text, references as placeholders. */
function flatBody(body: any): string {
  if (typeof body === 'string') return body;
  if (body['Fn::Join']) return (body['Fn::Join'][1] as any[]).map(flatBody).join(body['Fn::Join'][0]);
  return 'REF';
}
