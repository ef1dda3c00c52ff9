import { CfnOutput, Duration, Stack } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsDlq, SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { acknowledge, nagResource } from './nag-acknowledgements.js';
import { notifyingAlarm } from './notifying-alarm.js';
import { type StowageFunctions, FUNCTION_ENTRIES as WEBHOOK_ENTRIES } from './stowage-functions.js';

/** A message that fails this often on its own (not a receiver's failure: those are scheduled) is parked. */
export const WEBHOOK_MAX_RECEIVE_COUNT = 40;

export interface WebhookEventsProps {
  /** The metadata table; its stream (NEW_IMAGE) carries every audit event item. */
  readonly table: dynamodb.ITable;
  readonly functions: StowageFunctions;
  /** `arn:...:secret:{secretsPrefix}`: webhook secrets are `{prefix}/{tenant}/webhooks/{id}`. */
  readonly secretsArnPrefix: string;
  /** @default - a bus named after the stack */
  readonly eventBusName?: string;
}

/**
 * Webhooks and the event bus (API.md 13.5): the table's stream, filtered to new audit event
 * items, drives the fan-out function, which puts each event on the exported EventBridge bus and
 * one message per matching webhook on the delivery queue; the delivery function signs and POSTs
 * each, hiding a failed message until its next attempt (ChangeMessageVisibility, at most 12 h),
 * and after the schedule's last attempt (24 h or more after the first) sends it to the DLQ,
 * whose alarm tells the operator. Nothing of this runs in an API request.
 */
export class WebhookEvents extends Construct {
  public readonly eventBus: events.EventBus;
  public readonly queue: sqs.Queue;
  public readonly deadLetterQueue: sqs.Queue;
  public readonly fanOutFunction: nodejs.NodejsFunction;
  public readonly deliveryFunction: nodejs.NodejsFunction;
  /** Set by `alarmTo`: messages in the DLQ. */
  public deadLetterAlarm?: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: WebhookEventsProps) {
    super(scope, id);
    const { table, functions } = props;
    if (!table.tableStreamArn)
      throw new Error(
        'StowageService: webhooks need the table stream (NEW_IMAGE); enable it on existingTable.',
      );

    this.eventBus = new events.EventBus(this, 'Bus', {
      eventBusName: props.eventBusName ?? `${Stack.of(this).stackName}-events`,
    });
    this.deadLetterQueue = new sqs.Queue(this, 'Dlq', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // The delivery function sets each retry's own visibility; this covers one batch's attempts.
      visibilityTimeout: Duration.minutes(3),
      // A delivery lives 24 h and a last step of up to 12 h: four days leave room.
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: WEBHOOK_MAX_RECEIVE_COUNT },
    });
    const transport = {
      WEBHOOK_QUEUE_URL: this.queue.queueUrl,
      WEBHOOK_DLQ_URL: this.deadLetterQueue.queueUrl,
    };

    this.fanOutFunction = functions.addFunction('WebhookFanOut', WEBHOOK_ENTRIES.webhookFanOut, {
      environment: {
        ...functions.sharedEnvironment,
        ...transport,
        EVENT_BUS_NAME: this.eventBus.eventBusName,
      },
      timeout: Duration.seconds(30),
    });
    // By hand rather than DynamoEventSource, whose grant adds dynamodb:ListStreams on "*".
    new lambda.EventSourceMapping(this, 'Stream', {
      target: this.fanOutFunction,
      eventSourceArn: table.tableStreamArn,
      startingPosition: lambda.StartingPosition.TRIM_HORIZON,
      batchSize: 25,
      bisectBatchOnError: true,
      reportBatchItemFailures: true,
      // A stream keeps records 24 h: retried until then, then the batch's description is parked.
      retryAttempts: -1,
      maxRecordAge: Duration.hours(24),
      onFailure: new SqsDlq(this.deadLetterQueue),
      filters: [
        lambda.FilterCriteria.filter({
          eventName: lambda.FilterRule.isEqual('INSERT'),
          dynamodb: { NewImage: { entity: { S: lambda.FilterRule.isEqual('event') } } },
        }),
      ],
    });
    iam.Grant.addToPrincipal({
      grantee: this.fanOutFunction,
      actions: ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator'],
      resourceArns: [table.tableStreamArn],
    });
    // Reads the tenant's webhooks (Query on T#{t}) and the file (GetItem); writes deliveries.
    iam.Grant.addToPrincipal({
      grantee: this.fanOutFunction,
      actions: ['dynamodb:Query', 'dynamodb:GetItem', 'dynamodb:PutItem'],
      resourceArns: [table.tableArn],
    });
    table.encryptionKey?.grantEncryptDecrypt(this.fanOutFunction);
    this.queue.grantSendMessages(this.fanOutFunction);
    this.eventBus.grantPutEventsTo(this.fanOutFunction);

    // Ten attempts of at most 10 s side by side, and the bookkeeping.
    this.deliveryFunction = functions.addFunction('WebhookDelivery', WEBHOOK_ENTRIES.webhookDelivery, {
      environment: { ...functions.sharedEnvironment, ...transport },
      timeout: Duration.seconds(30),
    });
    this.deliveryFunction.addEventSource(
      new SqsEventSource(this.queue, { batchSize: 10, reportBatchItemFailures: true }),
    );
    // Only what one attempt reads and writes: the webhook and delivery items, the webhook secret.
    iam.Grant.addToPrincipal({
      grantee: this.deliveryFunction,
      actions: ['dynamodb:GetItem', 'dynamodb:PutItem'],
      resourceArns: [table.tableArn],
    });
    table.encryptionKey?.grantEncryptDecrypt(this.deliveryFunction);
    const webhookSecrets = `${props.secretsArnPrefix}/*/webhooks/*`;
    iam.Grant.addToPrincipal({
      grantee: this.deliveryFunction,
      actions: ['secretsmanager:GetSecretValue'],
      resourceArns: [webhookSecrets],
    });
    this.deadLetterQueue.grantSendMessages(this.deliveryFunction);
    acknowledge(
      this.deliveryFunction.role ?? this.deliveryFunction,
      `AwsSolutions-IAM5[Resource::${nagResource(this, webhookSecrets)}]`,
      'Webhook secrets are created per tenant at run time; the delivery function reads only those.',
    );

    new CfnOutput(this, 'EventBusName', {
      value: this.eventBus.eventBusName,
      description: 'EventBridge bus every recorded event is put on (source "stowage")',
      exportName: `${Stack.of(this).stackName}-EventBusName`,
    });
    new CfnOutput(this, 'EventBusArn', {
      value: this.eventBus.eventBusArn,
      description: 'EventBridge bus ARN, for rules in other stacks',
      exportName: `${Stack.of(this).stackName}-EventBusArn`,
    });
  }

  /** The DLQ's alarm, on the service's alarm topic: deliveries a receiver never took, events never fanned out. */
  public alarmTo(topic: sns.ITopic): cloudwatch.Alarm {
    const alarm = notifyingAlarm(this, 'DeadLetters', {
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5) }),
      description:
        'Webhook deliveries were dead-lettered (a receiver failed for 24 h or more), or events could not be fanned out.',
      topic,
    });
    this.deadLetterAlarm = alarm;
    return alarm;
  }
}
