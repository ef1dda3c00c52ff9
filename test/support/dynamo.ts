import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { inject } from 'vitest';

/** The key pair the stack's DynamoDB Local proxy requires (any other is refused). */
export function stackDynamoCredentials() {
  const config = inject('stackConfig');
  return { accessKeyId: config.dynamoAccessKeyId, secretAccessKey: config.dynamoSecretAccessKey };
}

/** A client for the stack's DynamoDB Local, signing with its key pair. */
export const stackDynamoClient = () =>
  new DynamoDBClient({
    region: 'us-east-1',
    endpoint: inject('dynamoEndpoint'),
    credentials: stackDynamoCredentials(),
  });
