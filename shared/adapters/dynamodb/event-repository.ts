import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { tableKeys } from '../../domain/keys.js';
import type { AuditEvent } from '../../domain/model.js';
import type { EventRepository } from '../../ports/repositories.js';
import { itemReader } from './item-reader.js';
import { readPage } from './read-page.js';
import type { Item, TableContext } from './table-context.js';
import { INDEX_NAMES, TTL_ATTRIBUTE } from './table-definition.js';
import type { TransactPut } from './transact-write.js';

/** How long the audit trail keeps an event before DynamoDB's TTL may remove it. */
const RETENTION_SECONDS = 400 * 24 * 60 * 60;

/**
 * An event's item, as its own write or as one more action of the transaction whose change it
 * records (the outbox: the change and its event commit together or not at all).
 */
export const eventItem = {
  put(tableName: string, tenantId: string, event: AuditEvent): TransactPut {
    const atSeconds = Math.floor(Date.parse(event.at) / 1000);
    if (!Number.isFinite(atSeconds)) {
      throw new RangeError(`Event ${event.id} has an invalid time: ${event.at}.`);
    }
    return {
      TableName: tableName,
      Item: {
        PK: tableKeys.eventPk(tenantId),
        SK: event.id,
        ...(event.fileId === null
          ? {}
          : { GSI1PK: tableKeys.eventByFilePk(tenantId, event.fileId), GSI1SK: event.id }),
        [TTL_ATTRIBUTE]: atSeconds + RETENTION_SECONDS,
        entity: 'event',
        id: event.id,
        type: event.type,
        at: event.at,
        actor: event.actor,
        fileId: event.fileId,
        providerId: event.providerId,
        status: event.status,
        latencyMs: event.latencyMs,
        // A JSON round trip drops undefined values (which the client refuses) and class instances.
        details: JSON.parse(JSON.stringify(event.details ?? {})),
      },
    };
  },
};

/**
 * Events sit in one partition per tenant, sorted by their ULID id (so backwards is newest
 * first), and, when they concern a file, also in the file's event partition through GSI1.
 */
export function createEventRepository(ctx: TableContext): EventRepository {
  return {
    async record(tenantId, event) {
      await ctx.client.send(new PutCommand(eventItem.put(ctx.tableName, tenantId, event)));
      ctx.onEventWritten?.(tenantId, event);
    },

    list(tenantId, filter, page) {
      const byFile = filter.fileId !== undefined;
      const pk = byFile
        ? tableKeys.eventByFilePk(tenantId, filter.fileId as string)
        : tableKeys.eventPk(tenantId);
      const [pkName, skName] = byFile ? ['GSI1PK', 'GSI1SK'] : ['PK', 'SK'];
      return readPage(
        ctx,
        {
          fingerprint: JSON.stringify(['events', tenantId, filter.type ?? null, filter.fileId ?? null]),
          keyAttributes: byFile ? ['PK', 'SK', pkName, skName] : ['PK', 'SK'],
          fixed: { [pkName]: pk },
          query: {
            ...(byFile ? { IndexName: INDEX_NAMES.gsi1 } : {}),
            KeyConditionExpression: `${pkName} = :pk`,
            ScanIndexForward: false,
            ...(filter.type === undefined
              ? { ExpressionAttributeValues: { ':pk': pk } }
              : {
                  FilterExpression: '#type = :type',
                  ExpressionAttributeNames: { '#type': 'type' },
                  ExpressionAttributeValues: { ':pk': pk, ':type': filter.type },
                }),
          },
        },
        page,
        fromItem,
      );
    },
  };
}

function fromItem(item: Item): AuditEvent {
  const read = itemReader(item);
  const status = read.string('status');
  if (status !== 'ok' && status !== 'error') {
    throw new TypeError(`Event ${read.string('id')} has status ${status}.`);
  }
  return {
    id: read.string('id'),
    type: read.string('type'),
    at: read.string('at'),
    actor: read.string('actor'),
    fileId: read.stringOrNull('fileId'),
    providerId: read.stringOrNull('providerId'),
    status,
    latencyMs: read.numberOrNull('latencyMs'),
    details: read.isNull('details') ? {} : read.map('details'),
  };
}
