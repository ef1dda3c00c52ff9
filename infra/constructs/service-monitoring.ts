import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  STS_LIMITS,
  TENANT_SESSION_LOG_MESSAGE,
} from '../../shared/adapters/tenant-scope/tenant-credentials.js';
import { notifyingAlarm } from './notifying-alarm.js';

export interface ServiceMonitoringProps {
  /** @default - a new topic */
  readonly alarmTopic?: sns.ITopic;
  readonly httpApi: apigwv2.IHttpApi;
  /** Functions by display name; each gets error and throttle alarms and dashboard graphs. */
  readonly functions: Readonly<Record<string, lambda.Function>>;
  /**
   * Functions invoked asynchronously behind a reserved concurrency, where throttling is the
   * intended back-pressure: each gets an error alarm and an alarm on events Lambda dropped.
   *
   * @default - none
   */
  readonly queuedFunctions?: Readonly<Record<string, lambda.Function>>;
  /**
   * Functions whose logs carry `upload validated` lines (shared/services/validation-service.ts):
   * accepted and rejected uploads are counted from them.
   *
   * @default - none
   */
  readonly uploadValidators?: readonly lambda.Function[];
  /** Functions that log `preview cache` hits and misses (shared/services/preview-service.ts). @default - none */
  readonly previewServers?: readonly lambda.Function[];
  /** Functions that log one `preview rendered` line per render, with `renderMs`. @default - none */
  readonly previewRenderers?: readonly lambda.Function[];
  /**
   * Functions that open tenant STS sessions and log `tenant session opened` with STS's
   * `packedPolicySize` (shared/adapters/tenant-scope/tenant-credentials.ts): an alarm fires when
   * a session's tags and policies take more than 80 % of STS's packed limit.
   *
   * @default - none
   */
  readonly tenantSessionOpeners?: readonly lambda.Function[];
  readonly uploadEventsQueue: sqs.IQueue;
  readonly uploadEventsDeadLetterQueue: sqs.IQueue;
  /**
   * Namespace of the metrics read from the functions' JSON logs.
   *
   * @default `Stowage/{stack name}`
   */
  readonly metricNamespace?: string;
}

const PERIOD = Duration.minutes(5);

/**
 * The dashboard and alarms of one deployment. Upload outcomes come from the queue and the DLQ
 * and from metric filters on the JSON lines the functions log (shared/adapters/json-logger.ts).
 */
export class ServiceMonitoring extends Construct {
  public readonly alarmTopic: sns.ITopic;
  public readonly dashboard: cloudwatch.Dashboard;
  public readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: ServiceMonitoringProps) {
    super(scope, id);
    this.alarmTopic = props.alarmTopic ?? this.createTopic();
    const namespace = props.metricNamespace ?? `Stowage/${Stack.of(this).stackName}`;
    const alarm = (alarmId: string, metric: cloudwatch.IMetric, description: string) => {
      const created = notifyingAlarm(this, alarmId, { metric, description, topic: this.alarmTopic });
      this.alarms.push(created);
      return created;
    };

    // ---- alarms ----
    const dlqVisible = props.uploadEventsDeadLetterQueue.metricApproximateNumberOfMessagesVisible({
      period: PERIOD,
      statistic: cloudwatch.Stats.MAXIMUM,
    });
    alarm(
      'UploadEventsDlqNotEmpty',
      dlqVisible,
      'Upload events failed 5 times and wait in the DLQ: those files stay pending until complete or the sweep.',
    );
    const api5xx = props.httpApi.metricServerError({ period: PERIOD, statistic: cloudwatch.Stats.SUM });
    alarm('Api5xx', api5xx, 'The API answered 5xx.');
    const queued = props.queuedFunctions ?? {};
    for (const [name, fn] of Object.entries({ ...props.functions, ...queued })) {
      alarm(
        `${name}Errors`,
        fn.metricErrors({ period: PERIOD, statistic: cloudwatch.Stats.SUM }),
        `The ${name} function failed (unhandled error or timeout).`,
      );
      if (name in queued)
        alarm(
          `${name}EventsDropped`,
          fn.metric('AsyncEventsDropped', { period: PERIOD, statistic: cloudwatch.Stats.SUM }),
          `Lambda dropped ${name} events (too old or failed): those are rendered on demand instead.`,
        );
      else
        alarm(
          `${name}Throttles`,
          fn.metricThrottles({ period: PERIOD, statistic: cloudwatch.Stats.SUM }),
          `The ${name} function was throttled (concurrency limit).`,
        );
    }

    // ---- metrics from the JSON logs ----
    /**
     * One metric from lines of several functions: a filter per log group, all publishing the same
     * metric, which CloudWatch adds up.
     */
    const fromLogLines = (
      metricId: string,
      fns: readonly lambda.Function[] | undefined,
      conditions: Record<string, string>,
      metricName: string,
      metric: { value: string; statistic: string; unit?: cloudwatch.Unit },
    ): cloudwatch.Metric | undefined => {
      if (!fns || fns.length === 0) return undefined;
      const pattern = logs.FilterPattern.all(
        ...Object.entries(conditions).map(([field, value]) =>
          logs.FilterPattern.stringValue(`$.${field}`, '=', value),
        ),
      );
      for (const fn of fns)
        new logs.MetricFilter(this, `${metricId}-${fn.node.id}`, {
          logGroup: fn.logGroup,
          filterPattern: pattern,
          metricNamespace: namespace,
          metricName,
          metricValue: metric.value,
          unit: metric.unit,
        });
      return new cloudwatch.Metric({
        namespace,
        metricName,
        period: PERIOD,
        statistic: metric.statistic,
        unit: metric.unit,
        label: metricName,
      });
    };
    const count = { value: '1', statistic: cloudwatch.Stats.SUM };
    const accepted = fromLogLines(
      'UploadsAccepted',
      props.uploadValidators,
      { message: 'upload validated', outcome: 'active' },
      'UploadsAccepted',
      count,
    );
    const rejected = fromLogLines(
      'UploadsRejected',
      props.uploadValidators,
      { message: 'upload validated', outcome: 'rejected' },
      'UploadsRejected',
      count,
    );
    const previewHits = fromLogLines(
      'PreviewHits',
      props.previewServers,
      { message: 'preview cache', outcome: 'hit' },
      'PreviewHits',
      count,
    );
    const previewMisses = fromLogLines(
      'PreviewMisses',
      props.previewServers,
      { message: 'preview cache', outcome: 'miss' },
      'PreviewMisses',
      count,
    );
    const renderMs = (statistic: string) =>
      fromLogLines(
        'PreviewRenderTime',
        props.previewRenderers,
        { message: 'preview rendered', outcome: 'ready' },
        'PreviewRenderMs',
        { value: '$.renderMs', statistic, unit: cloudwatch.Unit.MILLISECONDS },
      );
    const renderTime = renderMs('p50');
    const packedPolicySize = fromLogLines(
      'TenantSessionPackedPolicySize',
      props.tenantSessionOpeners,
      { message: TENANT_SESSION_LOG_MESSAGE },
      'TenantSessionPackedPolicySize',
      { value: '$.packedPolicySize', statistic: cloudwatch.Stats.MAXIMUM, unit: cloudwatch.Unit.PERCENT },
    );
    if (packedPolicySize) {
      this.alarms.push(
        notifyingAlarm(this, 'TenantSessionNearPackedLimit', {
          metric: packedPolicySize,
          description: `A tenant STS session used more than ${STS_LIMITS.packedPolicyAlarmPercent} % of STS's packed size limit (PackedPolicySize): longer tags or policies will fail every request of that tenant.`,
          topic: this.alarmTopic,
          threshold: STS_LIMITS.packedPolicyAlarmPercent,
          strictlyAbove: true,
        }),
      );
    }
    const fromLogs = (
      metricId: string,
      fn: lambda.Function | undefined,
      message: string,
      metricName: string,
      metricValue: string,
    ): cloudwatch.Metric | undefined => {
      if (!fn) return undefined;
      const filter = new logs.MetricFilter(this, metricId, {
        logGroup: fn.logGroup,
        filterPattern: logs.FilterPattern.stringValue('$.message', '=', message),
        metricNamespace: namespace,
        metricName,
        metricValue,
      });
      return filter.metric({ period: PERIOD, statistic: cloudwatch.Stats.SUM, label: metricName });
    };
    const validationFailures = fromLogs(
      'ValidationFailures',
      props.functions.ProcessUpload,
      'object validation failed',
      'UploadValidationFailures',
      '1',
    );
    const maintenance = (['purged', 'abandoned', 'validated', 'errors'] as const).flatMap((field) => {
      const metric = fromLogs(
        `Maintenance-${field}`,
        props.functions.Maintenance,
        'maintenance run',
        `Maintenance_${field}`,
        `$.${field}`,
      );
      return metric ? [metric] : [];
    });

    // ---- dashboard ----
    const api = props.httpApi;
    const latency = (stat: string) => api.metricLatency({ period: PERIOD, statistic: stat, label: stat });
    const fns = Object.entries({ ...props.functions, ...queued });
    const perFunction = (metric: (fn: lambda.Function) => cloudwatch.IMetric) =>
      fns.map(([, fn]) => metric(fn));
    const queue = props.uploadEventsQueue;
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', { defaultInterval: Duration.hours(6) });
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'API requests and errors',
        left: [api.metricCount({ period: PERIOD, statistic: cloudwatch.Stats.SUM, label: 'requests' })],
        right: [
          api.metricClientError({ period: PERIOD, statistic: cloudwatch.Stats.SUM, label: '4xx' }),
          api5xx.with({ label: '5xx' }),
        ],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'API latency (ms)',
        left: [latency('p50'), latency('p90'), latency('p99')],
        width: 12,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Function errors and throttles',
        left: perFunction((fn) =>
          fn.metricErrors({ period: PERIOD, statistic: cloudwatch.Stats.SUM, label: `${fn.node.id} errors` }),
        ),
        right: perFunction((fn) =>
          fn.metricThrottles({
            period: PERIOD,
            statistic: cloudwatch.Stats.SUM,
            label: `${fn.node.id} throttles`,
          }),
        ),
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Function duration p90 (ms)',
        left: perFunction((fn) =>
          fn.metricDuration({ period: PERIOD, statistic: 'p90', label: `${fn.node.id} p90` }),
        ),
        width: 12,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Upload events: processed, retried, dead-lettered',
        left: [
          queue.metricNumberOfMessagesDeleted({
            period: PERIOD,
            statistic: cloudwatch.Stats.SUM,
            label: 'processed',
          }),
          ...(validationFailures
            ? [validationFailures.with({ label: 'validation failures (retried)' })]
            : []),
        ],
        right: [dlqVisible.with({ label: 'in DLQ' })],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Upload event backlog',
        left: [queue.metricApproximateNumberOfMessagesVisible({ period: PERIOD, label: 'waiting' })],
        right: [queue.metricApproximateAgeOfOldestMessage({ period: PERIOD, label: 'oldest (s)' })],
        width: 12,
      }),
    );
    if (accepted && rejected) {
      this.dashboard.addWidgets(
        new cloudwatch.GraphWidget({
          title: 'Upload outcomes',
          left: [accepted.with({ label: 'accepted (active)' }), rejected.with({ label: 'rejected' })],
          width: 12,
        }),
        new cloudwatch.SingleValueWidget({
          title: 'Uploads accepted and rejected (whole period)',
          metrics: [accepted.with({ label: 'accepted' }), rejected.with({ label: 'rejected' })],
          setPeriodToTimeRange: true,
          width: 12,
        }),
      );
    }
    if (previewHits && previewMisses && renderTime) {
      this.dashboard.addWidgets(
        new cloudwatch.GraphWidget({
          title: 'Preview cache hit ratio (%)',
          left: [
            new cloudwatch.MathExpression({
              expression: '100 * hits / (hits + misses)',
              usingMetrics: { hits: previewHits, misses: previewMisses },
              label: 'hit ratio',
              period: PERIOD,
            }),
          ],
          leftYAxis: { min: 0, max: 100 },
          right: [previewHits.with({ label: 'hits' }), previewMisses.with({ label: 'misses' })],
          width: 12,
        }),
        new cloudwatch.GraphWidget({
          title: 'Preview render time (ms)',
          left: [
            renderTime.with({ statistic: 'p50', label: 'p50' }),
            renderTime.with({ statistic: 'p90', label: 'p90' }),
            renderTime.with({ statistic: cloudwatch.Stats.MAXIMUM, label: 'max' }),
          ],
          right: [renderTime.with({ statistic: cloudwatch.Stats.SAMPLE_COUNT, label: 'renders' })],
          width: 12,
        }),
      );
    }
    for (const [name, fn] of Object.entries(queued)) {
      const async = (metricName: string, statistic: string, label: string) =>
        fn.metric(metricName, { period: PERIOD, statistic, label });
      this.dashboard.addWidgets(
        new cloudwatch.GraphWidget({
          title: `${name}: asynchronous events`,
          left: [
            async('AsyncEventsReceived', cloudwatch.Stats.SUM, 'received'),
            async('AsyncEventsDropped', cloudwatch.Stats.SUM, 'dropped'),
            fn.metricThrottles({
              period: PERIOD,
              statistic: cloudwatch.Stats.SUM,
              label: 'throttled (retried)',
            }),
          ],
          right: [async('AsyncEventAge', cloudwatch.Stats.MAXIMUM, 'oldest waiting (ms)')],
          width: 24,
        }),
      );
    }
    if (maintenance.length > 0) {
      this.dashboard.addWidgets(
        new cloudwatch.GraphWidget({ title: 'Maintenance sweep', left: maintenance, width: 24 }),
      );
    }
  }

  private createTopic(): sns.Topic {
    // Not KMS-encrypted: CloudWatch cannot publish to a topic under the aws/sns key, and alarm
    // texts hold no customer data. Pass `alarmTopic` to use one under a customer managed key.
    const topic = new sns.Topic(this, 'AlarmTopic', { displayName: 'Stowage alarms', enforceSSL: true });
    // A topic policy replaces SNS's default one, so it must let CloudWatch publish this
    // account's alarms itself.
    const stack = Stack.of(this);
    topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarms',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [topic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnLike: {
            'aws:SourceArn': stack.formatArn({
              service: 'cloudwatch',
              resource: 'alarm',
              resourceName: '*',
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          },
        },
      }),
    );
    return topic;
  }
}
