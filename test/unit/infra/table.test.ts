import { afterAll, describe, expect, it } from 'vitest';
import {
  GLOBAL_SECONDARY_INDEXES,
  KEY_ATTRIBUTES,
  TTL_ATTRIBUTE,
} from '../../../shared/adapters/dynamodb/table-definition.js';
import { removeTestOutdirs, resourcesOf, synthService } from './support/synth.js';

afterAll(removeTestOutdirs);

describe('the metadata table', () => {
  const { template } = synthService();
  const tables = Object.values(resourcesOf(template, 'AWS::DynamoDB::Table'));
  const props = tables[0]!.Properties;

  it('is one on-demand table with point-in-time recovery', () => {
    expect(tables).toHaveLength(1);
    expect(props.BillingMode).toBe('PAY_PER_REQUEST');
    expect(props.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
  });

  it('has the keys and TTL attribute the repositories use (table-definition.ts)', () => {
    expect(props.KeySchema).toEqual([
      { AttributeName: KEY_ATTRIBUTES.pk, KeyType: 'HASH' },
      { AttributeName: KEY_ATTRIBUTES.sk, KeyType: 'RANGE' },
    ]);
    expect(props.TimeToLiveSpecification).toEqual({ AttributeName: TTL_ATTRIBUTE, Enabled: true });
    expect(props.AttributeDefinitions).toEqual(
      expect.arrayContaining(
        Object.values(KEY_ATTRIBUTES).map((name) => ({ AttributeName: name, AttributeType: 'S' })),
      ),
    );
  });

  it('has exactly the GSIs the code queries, projecting every attribute', () => {
    expect(props.GlobalSecondaryIndexes).toEqual(
      GLOBAL_SECONDARY_INDEXES.map((index) => ({
        IndexName: index.indexName,
        KeySchema: [
          { AttributeName: index.partitionKey, KeyType: 'HASH' },
          { AttributeName: index.sortKey, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      })),
    );
  });

  it('is encrypted at rest with an AWS owned key by default (SSEEnabled false means exactly that)', () => {
    expect(props.SSESpecification).toEqual({ SSEEnabled: false });
  });
});
