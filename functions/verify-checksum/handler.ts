import { runAsTenant } from '../../shared/adapters/tenant-scope/tenant-context.js';
import { isId } from '../../shared/domain/ids.js';
import type { FileJobRequest } from '../../shared/ports/file-job-scheduler.js';
import type { ValidationService } from '../../shared/services/validation-service.js';
import { composeFromEnv, settlingScheduled } from '../lib/compose.js';
import { lazy } from '../lib/lazy.js';

/**
 * Checks a declared sha256 too big to check in a request (API.md 13.2), invoked asynchronously
 * by the API and process-upload (`CHECKSUM_FUNCTION_NAME`) with `{ tenantId, fileId }`. It
 * streams the object once, in the tenant's scope, under its own timeout (15 minutes hash well
 * over 5 GiB); a lost or timed-out run is asked for again by the sweep.
 */
export function makeVerifyChecksumHandler(deps: { validation: Pick<ValidationService, 'verifyChecksum'> }) {
  return async (event: FileJobRequest): Promise<void> => {
    const { tenantId, fileId } = (event ?? {}) as Partial<FileJobRequest>;
    if (!isId(tenantId) || !isId(fileId))
      throw new Error('The checksum event needs { tenantId, fileId }, both ids.');
    await runAsTenant(tenantId, () => deps.validation.verifyChecksum(tenantId, fileId));
  };
}

export const handler = lazy(() => {
  const app = composeFromEnv(process.env);
  // A file that becomes active schedules its preview: sent before the function answers.
  return settlingScheduled(app, makeVerifyChecksumHandler({ validation: app.services.validation }));
});
