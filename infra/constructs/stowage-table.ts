import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import {
  GLOBAL_SECONDARY_INDEXES,
  KEY_ATTRIBUTES,
  TTL_ATTRIBUTE,
} from '../../shared/adapters/dynamodb/table-definition.js';

export interface StowageTableProps {
  readonly removalPolicy: RemovalPolicy;
  /** @default - an AWS owned key */
  readonly encryptionKey?: kms.IKey;
  /** @default - a table is created */
  readonly existingTable?: dynamodb.ITable;
  /** @default - none */
  readonly tableProps?: Omit<Partial<dynamodb.TableProps>, 'partitionKey' | 'sortKey'>;
}

/** The metadata table, with the keys and indexes of table-definition.ts. */
export class StowageTable extends Construct {
  public readonly table: dynamodb.ITable;

  constructor(scope: Construct, id: string, props: StowageTableProps) {
    super(scope, id);
    if (props.existingTable) {
      this.table = props.existingTable;
      return;
    }
    const str = dynamodb.AttributeType.STRING;
    const table = new dynamodb.Table(this, 'Table', {
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: TTL_ATTRIBUTE,
      // Every audit event item reaches the webhook fan-out through it (WebhookEvents).
      stream: dynamodb.StreamViewType.NEW_IMAGE,
      ...(props.encryptionKey
        ? { encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED, encryptionKey: props.encryptionKey }
        : { encryption: dynamodb.TableEncryption.DEFAULT }),
      deletionProtection: props.removalPolicy !== RemovalPolicy.DESTROY,
      removalPolicy: props.removalPolicy,
      ...props.tableProps,
      partitionKey: { name: KEY_ATTRIBUTES.pk, type: str },
      sortKey: { name: KEY_ATTRIBUTES.sk, type: str },
    });
    for (const index of GLOBAL_SECONDARY_INDEXES) {
      table.addGlobalSecondaryIndex({
        indexName: index.indexName,
        partitionKey: { name: index.partitionKey, type: str },
        sortKey: { name: index.sortKey, type: str },
        projectionType: dynamodb.ProjectionType.ALL,
      });
    }
    this.table = table;
  }
}
