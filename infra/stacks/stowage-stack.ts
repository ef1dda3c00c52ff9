import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';
import { StowageService, type StowageServiceProps } from '../constructs/stowage-service.js';

export interface StowageStackProps extends StackProps {
  /** @default - the construct's defaults */
  readonly service?: StowageServiceProps;
  /**
   * Subscribes this address to the alarm topic (SNS asks it to confirm).
   *
   * @default - no subscription
   */
  readonly alarmEmail?: string;
}

/** One deployment of Stowage: the service construct and the outputs a client needs. */
export class StowageStack extends Stack {
  public readonly service: StowageService;

  constructor(scope: Construct, id: string, props: StowageStackProps = {}) {
    super(scope, id, props);
    this.service = new StowageService(this, 'Service', props.service);
    if (props.alarmEmail)
      this.service.alarmTopic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));

    const output = (name: string, value: string, description: string) =>
      new CfnOutput(this, name, { value, description });
    output('ApiUrl', this.service.apiUrl, 'Base URL of the HTTP API (append /v1/...)');
    output(
      'UploadsBucketName',
      this.service.uploadsBucket.bucketName,
      'Uploads bucket (the default provider)',
    );
    output('PreviewBucketName', this.service.previewBucket.bucketName, 'Preview cache bucket');
    output('TableName', this.service.table.tableName, 'DynamoDB metadata table');
    output('JwtIssuer', this.service.jwtIssuer, 'Issuer whose tokens the API accepts');
    output('AlarmTopicArn', this.service.alarmTopic.topicArn, 'SNS topic of the alarms');
    output('DashboardName', this.service.monitoring.dashboard.dashboardName, 'CloudWatch dashboard');
    if (this.service.userPool && this.service.userPoolClient) {
      output('UserPoolId', this.service.userPool.userPoolId, 'Cognito user pool (create users here)');
      output(
        'UserPoolClientId',
        this.service.userPoolClient.userPoolClientId,
        'App client: the JWT audience',
      );
    }
  }
}
