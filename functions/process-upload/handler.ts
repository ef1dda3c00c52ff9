import type { S3Event, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { runAsTenant } from '../../shared/adapters/tenant-scope/tenant-context.js';
import { parseFileObjectKey } from '../../shared/domain/keys.js';
import type { Logger } from '../../shared/ports/logger.js';
import type { CreatedObject, ValidationService } from '../../shared/services/validation-service.js';
import { composeFromEnv, settlingScheduled } from '../lib/compose.js';
import { lazy } from '../lib/lazy.js';

/**
 * S3 `ObjectCreated` notifications, delivered through SQS in batches. Each message is
 * validated on its own; only failed messages go back to the queue (partial batch response).
 */
export function makeProcessUploadHandler(deps: { validation: ValidationService; logger: Logger }) {
  return async (event: SQSEvent): Promise<SQSBatchResponse> => {
    const failures: SQSBatchResponse['batchItemFailures'] = [];
    for (const message of event.Records) {
      try {
        for (const object of createdObjectsOf(message.body)) {
          // The object key names its tenant: validate with that tenant's scoped credentials.
          const address = parseFileObjectKey(object.key);
          if (address) await runAsTenant(address.tenantId, () => deps.validation.onObjectCreated(object));
        }
      } catch (error) {
        deps.logger.error('object validation failed', { messageId: message.messageId, error: String(error) });
        failures.push({ itemIdentifier: message.messageId });
      }
    }
    return { batchItemFailures: failures };
  };
}

/**
 * The objects an S3 notification announces. Keys are URL-encoded with `+` for spaces; ETags
 * come unquoted (HEAD answers them quoted); a test event has no records.
 */
export function createdObjectsOf(body: string): CreatedObject[] {
  const parsed = JSON.parse(body) as Partial<S3Event> & { Event?: string };
  return (parsed.Records ?? [])
    .filter((r) => r.eventName?.startsWith('ObjectCreated:'))
    .map((r) => ({
      key: decodeURIComponent(r.s3.object.key.replace(/\+/g, ' ')),
      etag: r.s3.object.eTag ? `"${r.s3.object.eTag.replace(/^"|"$/g, '')}"` : null,
      versionId: r.s3.object.versionId ?? null,
    }));
}

export const handler = lazy(() => {
  const app = composeFromEnv(process.env);
  // A file that becomes active schedules its preview: sent before the batch is answered.
  return settlingScheduled(
    app,
    makeProcessUploadHandler({ validation: app.services.validation, logger: app.logger }),
  );
});
