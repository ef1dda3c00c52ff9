import { requireRole } from '../domain/access.js';
import type { Actor, AuditEvent, Page } from '../domain/model.js';
import type { Quota } from '../domain/quota.js';
import { AuditTrail } from './audit-trail.js';
import type { ServiceDeps } from './service-deps.js';

/** The tenant's quota and audit trail (API.md section 11). */
export class QuotaService {
  private readonly audit: AuditTrail;

  constructor(private readonly deps: ServiceDeps) {
    this.audit = new AuditTrail(deps);
  }

  async get(actor: Actor): Promise<Quota> {
    requireRole(actor, 'viewer');
    return this.deps.metadata.quota.get(actor.tenantId);
  }

  /** A limit below current use is accepted: it stops new uploads until files go. */
  async setLimit(actor: Actor, limitBytes: number | null): Promise<Quota> {
    requireRole(actor, 'admin');
    const quota = await this.deps.metadata.quota.setLimit(actor.tenantId, limitBytes);
    await this.audit.record(actor.tenantId, {
      type: 'quota.updated',
      actor: actor.userId,
      details: { limitBytes },
    });
    return quota;
  }

  async events(
    actor: Actor,
    filter: { type?: string; fileId?: string },
    page: { limit: number; cursor?: string },
  ): Promise<Page<AuditEvent>> {
    requireRole(actor, 'admin');
    return this.deps.metadata.events.list(actor.tenantId, filter, page);
  }
}
