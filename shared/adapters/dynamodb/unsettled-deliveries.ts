import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { parseDeliveryPk } from '../../domain/keys.js';
import type { DeliveryMessage } from '../../domain/webhook.js';
import type { TableContext } from './table-context.js';
import { DELIVERY_ENTITY } from './webhook-repository.js';

/**
 * Every delivery still to be attempted (`pending` or `failed`), as the message that attempts it,
 * page by page. For a process that holds its delivery queue in memory (the local stack) and so
 * must find its pending retries again after a restart; in AWS the SQS queue keeps them. A Scan,
 * run once at start, never on a request path. Items written before bodies were kept are skipped.
 */
export async function* listUnsettledDeliveries(ctx: TableContext): AsyncGenerator<DeliveryMessage[]> {
  let startKey: Record<string, unknown> | undefined;
  do {
    const answer = await ctx.client.send(
      new ScanCommand({
        TableName: ctx.tableName,
        FilterExpression: 'entity = :entity AND #status IN (:pending, :failed) AND attribute_exists(body)',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':entity': DELIVERY_ENTITY, ':pending': 'pending', ':failed': 'failed' },
        ExclusiveStartKey: startKey,
      }),
    );
    const messages: DeliveryMessage[] = [];
    for (const item of answer.Items ?? []) {
      const owner = typeof item.PK === 'string' ? parseDeliveryPk(item.PK) : null;
      if (!owner || typeof item.eventId !== 'string' || typeof item.body !== 'string') continue;
      messages.push({
        tenantId: owner.tenantId,
        webhookId: owner.webhookId,
        eventId: item.eventId,
        type: String(item.type),
        body: item.body,
      });
    }
    if (messages.length > 0) yield messages;
    startKey = answer.LastEvaluatedKey;
  } while (startKey);
}
