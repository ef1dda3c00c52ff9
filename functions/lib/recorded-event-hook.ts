import type { AuditEvent } from '../../shared/domain/model.js';
import type { MetadataStore } from '../../shared/ports/repositories.js';

/**
 * The local stack's stand-in for the table's stream: after an audit event is written, the hook
 * hears of it (in this process, so an event recorded just before the process dies is not fanned
 * out: the one durability gap of the local stack). The hook only enqueues; it never waits.
 */
export function withRecordedEventHook(
  metadata: MetadataStore,
  hook: ((tenantId: string, event: AuditEvent) => void) | undefined,
): MetadataStore {
  if (!hook) return metadata;
  const events = metadata.events;
  return {
    ...metadata,
    events: {
      list: (...args) => events.list(...args),
      async record(tenantId, event) {
        await events.record(tenantId, event);
        hook(tenantId, event);
      },
    },
  };
}
