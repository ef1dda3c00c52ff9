import type { AuditEvent } from '../../shared/domain/model.js';
import type { MetadataStore } from '../../shared/ports/repositories.js';

/**
 * Tells the local stack that an audit event was written, so its stream poller reads the stream
 * now instead of at its next interval (or, on a table without a stream, so the event is fanned
 * out in this process). The hook only wakes or enqueues; it never waits.
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
