import type { EventBus } from '../ports/webhook-transport.js';
import type { AwsJsonCall } from './aws-json-request.js';

const BATCH = 10;
export const EVENT_SOURCE = 'stowage';

/**
 * Every recorded audit event on the stack's EventBridge bus (API.md 13.5): source `stowage`,
 * detail-type the event type, detail `{ tenantId, event }`. Rules on the bus may target anything.
 */
export function createEventBridgeEventBus(opts: { call: AwsJsonCall; busName: string }): EventBus {
  return {
    async publish(entries) {
      for (let i = 0; i < entries.length; i += BATCH) {
        const out = await opts.call<{ FailedEntryCount?: number }>('PutEvents', {
          Entries: entries.slice(i, i + BATCH).map(({ tenantId, event }) => ({
            EventBusName: opts.busName,
            Source: EVENT_SOURCE,
            DetailType: event.type,
            Time: Math.floor(Date.parse(event.at) / 1000),
            Detail: JSON.stringify({ tenantId, event }),
          })),
        });
        if (out.FailedEntryCount) throw new Error(`EventBridge refused ${out.FailedEntryCount} events.`);
      }
    },
  };
}
