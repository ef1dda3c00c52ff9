import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';

/**
 * The service's one kind of alarm: at least one occurrence in a period (or another threshold),
 * missing data is fine, the topic told on alarm and on recovery.
 */
export function notifyingAlarm(
  scope: Construct,
  id: string,
  props: {
    metric: cloudwatch.IMetric;
    description: string;
    topic: sns.ITopic;
    /** Fires at this value or more. @default 1 */
    threshold?: number;
    /** Fires only above the threshold, not at it. @default false */
    strictlyAbove?: boolean;
  },
): cloudwatch.Alarm {
  const alarm = new cloudwatch.Alarm(scope, id, {
    metric: props.metric,
    alarmDescription: props.description,
    threshold: props.threshold ?? 1,
    evaluationPeriods: 1,
    comparisonOperator: props.strictlyAbove
      ? cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD
      : cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  const action = new SnsAction(props.topic);
  alarm.addAlarmAction(action);
  alarm.addOkAction(action);
  return alarm;
}
