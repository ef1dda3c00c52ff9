import { Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct, type IConstruct } from 'constructs';
import { objectKeys } from '../../shared/domain/keys.js';
import { acknowledge } from './nag-acknowledgements.js';

/** How many times SQS hands a message to process-upload before parking it in the DLQ. */
export const MAX_RECEIVE_COUNT = 5;

export interface UploadEventsProps {
  readonly uploadsBucket: s3.IBucket;
  /** Validates each new object (process-upload); reports batch item failures. */
  readonly consumer: lambda.Function;
}

/**
 * S3's ObjectCreated events of tenant objects, through SQS (with a DLQ) to process-upload. The
 * queue takes messages only from S3 on behalf of this bucket in this account (a bucket name is
 * global: `aws:SourceArn` alone would admit a bucket of that name elsewhere once this one is gone).
 */
export class UploadEvents extends Construct {
  public readonly queue: sqs.Queue;
  public readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: UploadEventsProps) {
    super(scope, id);
    this.deadLetterQueue = new sqs.Queue(this, 'Dlq', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // AWS's guidance for Lambda consumers: six times the function timeout, so a batch
      // retried by Lambda is not handed to a second consumer meanwhile.
      visibilityTimeout: Duration.seconds(6 * (props.consumer.timeout ?? Duration.seconds(3)).toSeconds()),
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: MAX_RECEIVE_COUNT },
    });
    props.uploadsBucket.addEventNotification(s3.EventType.OBJECT_CREATED, new AccountBoundQueue(this.queue), {
      prefix: objectKeys.tenantsRoot,
    });
    props.consumer.addEventSource(
      new SqsEventSource(this.queue, { batchSize: 10, reportBatchItemFailures: true }),
    );
    acknowledgeNotificationsHandler(this);
  }
}

/** Like s3n.SqsDestination, with `aws:SourceAccount` next to `aws:SourceArn`. */
class AccountBoundQueue implements s3.IBucketNotificationDestination {
  constructor(private readonly queue: sqs.IQueue) {}

  bind(scope: Construct, bucket: s3.IBucketRef): s3.BucketNotificationDestinationConfig {
    this.queue.grantSendMessages(
      new iam.ServicePrincipal('s3.amazonaws.com', {
        conditions: {
          ArnLike: { 'aws:SourceArn': bucket.bucketRef.bucketArn },
          StringEquals: { 'aws:SourceAccount': Stack.of(scope).account },
        },
      }),
    );
    return {
      arn: this.queue.queueArn,
      type: s3.BucketNotificationDestinationType.QUEUE,
      dependencies: [this.queue],
    };
  }
}

/**
 * S3 event notifications are set at deploy time by a CDK-provided singleton function, whose
 * role carries the managed basic-execution policy.
 */
function acknowledgeNotificationsHandler(scope: IConstruct): void {
  const handler = Stack.of(scope).node.tryFindChild(
    'BucketNotificationsHandler050a0587b7544547bf325f094a3db834',
  );
  if (!handler) return;
  acknowledge(
    handler,
    'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    'CDK-provided function that sets the bucket notification; it runs only during deployment.',
  );
}
