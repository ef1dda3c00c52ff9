import type { S3Event, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { runAsTenant } from '../../shared/adapters/tenant-scope/tenant-context.js';
import { parseFileObjectKey } from '../../shared/domain/keys.js';
import type { Logger } from '../../shared/ports/logger.js';
import type { CreatedObject, ValidationService } from '../../shared/services/validation-service.js';
import { composeFromEnv, settlingScheduled } from '../lib/compose.js';
import { lazy } from '../lib/lazy.js';

/**
 * S3 `ObjectCreated` notifications, delivered through SQS in batches. The messages of a batch
 * are validated side by side, each on its own: one slow or failing object never holds up or
 * fails the others, and only failed messages go back to the queue (partial batch response).
 * No message hashes a whole big object here (that is the verify-checksum job).
 */
export function makeProcessUploadHandler(deps: { validation: ValidationService; logger: Logger }) {
  const processMessage = async (body: string) => {
    for (const object of createdObjectsOf(body)) {
      // The object key names its tenant: validate with that tenant's scoped credentials.
      const address = parseFileObjectKey(object.key);
      if (address) await runAsTenant(address.tenantId, () => deps.validation.onObjectCreated(object));
    }
  };
  return async (event: SQSEvent): Promise<SQSBatchResponse> => {
    const outcomes = await Promise.allSettled(event.Records.map((message) => processMessage(message.body)));
    const failures: SQSBatchResponse['batchItemFailures'] = [];
    outcomes.forEach((outcome, i) => {
      if (outcome.status === 'fulfilled') return;
      const { messageId } = event.Records[i] as SQSEvent['Records'][number];
      deps.logger.error('object validation failed', { messageId, error: String(outcome.reason) });
      failures.push({ itemIdentifier: messageId });
    });
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
