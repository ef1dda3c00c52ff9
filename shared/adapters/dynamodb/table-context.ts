import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** What every repository needs: the document client (built once per cold start) and the table. */
export interface TableContext {
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
}

/** A raw item as the document client returns it; only the repositories' mappers read it. */
export type Item = Record<string, unknown>;
