import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AuditEvent } from '../../domain/model.js';

/** What every repository needs: the document client (built once per cold start) and the table. */
export interface TableContext {
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
  /**
   * Told after each audit event item commits, alone or inside its change's transaction (the
   * local stack wakes its stream poller, or fans out in process where the table has no stream).
   * It only wakes or enqueues; it never waits.
   */
  readonly onEventWritten?: (tenantId: string, event: AuditEvent) => void;
}

/** A raw item as the document client returns it; only the repositories' mappers read it. */
export type Item = Record<string, unknown>;
