import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { EventBus } from '../ports/webhook-transport.js';

const BATCH = 10;
export const EVENT_SOURCE = 'stowage';

/**
 * Every recorded audit event on the stack's EventBridge bus (API.md 13.5): source `stowage`,
 * detail-type the event type, detail `{ tenantId, event }`. Rules on the bus may target anything.
 */
export function createEventBridgeEventBus(opts: { client: EventBridgeClient; busName: string }): EventBus {
  return {
    async publish(entries) {
      for (let i = 0; i < entries.length; i += BATCH) {
        const out = await opts.client.send(
          new PutEventsCommand({
            Entries: entries.slice(i, i + BATCH).map(({ tenantId, event }) => ({
              EventBusName: opts.busName,
              Source: EVENT_SOURCE,
              DetailType: event.type,
              Time: new Date(event.at),
              Detail: JSON.stringify({ tenantId, event }),
            })),
          }),
        );
        if (out.FailedEntryCount) throw new Error(`EventBridge refused ${out.FailedEntryCount} events.`);
      }
    },
  };
}
