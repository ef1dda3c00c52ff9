import type { MaintenanceService } from '../../shared/services/maintenance-service.js';
import { composeFromEnv } from '../lib/compose.js';
import { lazy } from '../lib/lazy.js';

/** Runs on a schedule (EventBridge in AWS, a timer in the local stack). */
export function makeMaintenanceHandler(deps: { maintenance: MaintenanceService }) {
  return async () => deps.maintenance.run();
}

export const handler = lazy(() =>
  makeMaintenanceHandler({ maintenance: composeFromEnv(process.env).services.maintenance }),
);
