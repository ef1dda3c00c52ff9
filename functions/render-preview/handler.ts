import type { RenderPreviewRequest } from '../../shared/adapters/preview/lambda-preview-scheduler.js';
import { runAsTenant } from '../../shared/adapters/tenant-scope/tenant-context.js';
import { isId } from '../../shared/domain/ids.js';
import type { PreviewService } from '../../shared/services/preview-service.js';
import { composeFromEnv } from '../lib/compose.js';
import { lazy } from '../lib/lazy.js';

/**
 * Renders one file's preview into the cache, invoked asynchronously by the API and
 * process-upload (`PREVIEW_AHEAD=lambda`) with `{ tenantId, fileId }`. The work runs in the
 * tenant's scope: with tenant isolation on, its S3 and DynamoDB calls use that tenant's STS
 * session. `renderAhead` never throws: a file that cannot be drawn is recorded as failed.
 */
export function makeRenderPreviewHandler(deps: { previews: Pick<PreviewService, 'renderAhead'> }) {
  return async (event: RenderPreviewRequest): Promise<void> => {
    const { tenantId, fileId } = (event ?? {}) as Partial<RenderPreviewRequest>;
    if (!isId(tenantId) || !isId(fileId))
      throw new Error('The render event needs { tenantId, fileId }, both ids.');
    await runAsTenant(tenantId, () => deps.previews.renderAhead(tenantId, fileId));
  };
}

export const handler = lazy(() => {
  const { services } = composeFromEnv(process.env);
  return makeRenderPreviewHandler({ previews: services.previews });
});
