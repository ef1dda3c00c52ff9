import type { AuditEvent } from '../domain/model.js';
import type { ServiceDeps } from './service-deps.js';

export interface AuditInput {
  type: string;
  actor: string;
  fileId?: string | null;
  providerId?: string | null;
  status?: 'ok' | 'error';
  latencyMs?: number | null;
  details?: Record<string, unknown>;
}

/**
 * The audit trail. A file's transition carries its event into the repository (`event`), which
 * writes it in the same transaction as the change: that is the outbox webhooks are fanned out
 * from. Everything else is `record`ed after the fact; a failure to record is logged, never
 * thrown: the action it describes has already happened, and failing the request then would make
 * the client retry a done thing.
 */
export class AuditTrail {
  constructor(private readonly deps: Pick<ServiceDeps, 'metadata' | 'clock' | 'ids' | 'logger'>) {}

  /** A new event, to hand to the transition it tells of. */
  event(input: AuditInput): AuditEvent {
    return {
      id: this.deps.ids.next(),
      type: input.type,
      at: this.deps.clock.now().toISOString(),
      actor: input.actor,
      fileId: input.fileId ?? null,
      providerId: input.providerId ?? null,
      status: input.status ?? 'ok',
      latencyMs: input.latencyMs ?? null,
      details: input.details ?? {},
    };
  }

  async record(tenantId: string, input: AuditInput): Promise<void> {
    const event = this.event(input);
    try {
      await this.deps.metadata.events.record(tenantId, event);
    } catch (error) {
      this.deps.logger.error('audit event not recorded', {
        tenantId,
        type: input.type,
        error: String(error),
      });
    }
  }
}
