import { isId } from '../../shared/domain/ids.js';
import type { ConsistencyReport, ConsistencyService } from '../../shared/services/consistency-service.js';
import type { MaintenanceReport, MaintenanceService } from '../../shared/services/maintenance-service.js';
import { composeFromEnv, settlingScheduled } from '../lib/compose.js';
import { lazy } from '../lib/lazy.js';

/**
 * Runs on a schedule (EventBridge in AWS, a timer in the local stack). Invoked by hand with
 * `{ "check": { "tenantId": "acme" } }` it runs the consistency check in report mode instead:
 * it lists what is wrong and changes nothing (repairs are `npm run fsck -- --fix`).
 */
export interface MaintenanceHandler {
  /** The scheduled run (an EventBridge event, or nothing). */
  (event?: { 'detail-type'?: string }): Promise<MaintenanceReport>;
  /** Report mode: the consistency check of one tenant. */
  (event: { check: { tenantId: string } }): Promise<ConsistencyReport>;
}

export function makeMaintenanceHandler(deps: {
  maintenance: MaintenanceService;
  consistency?: ConsistencyService;
}): MaintenanceHandler {
  return (async (event?: unknown) => {
    const tenantId = (event as { check?: { tenantId?: unknown } } | undefined)?.check?.tenantId;
    if (tenantId !== undefined) {
      if (!isId(tenantId)) throw new Error('check.tenantId must be a tenant id.');
      if (!deps.consistency)
        throw new Error('This maintenance handler was built without the consistency check.');
      return deps.consistency.check(tenantId, { fix: false });
    }
    return deps.maintenance.run();
  }) as MaintenanceHandler;
}

export const handler = lazy(() => {
  const app = composeFromEnv(process.env);
  const { services } = app;
  // The sweep hands whole-object checks to the checksum function: sent before it answers.
  return settlingScheduled(
    app,
    makeMaintenanceHandler({ maintenance: services.maintenance, consistency: services.consistency }),
  ) as MaintenanceHandler;
});
