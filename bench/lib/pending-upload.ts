import type { FileRecord } from '../../shared/domain/model.js';
import type { BenchContext } from './bench-context.js';
import { type BenchTenant, expectStatus } from './bench-tenant.js';
import type { PdfBytes } from './pdf-bytes.js';
import { sendUpload } from './send-upload.js';

/**
 * A pending file whose bytes have arrived but which nothing has validated yet: initiated
 * through the API, its bytes sent as the instructions say (presigned PUT, or parts for a large
 * file), its storage event held back by `hold`.
 */
export async function pendingUpload(
  ctx: BenchContext,
  tenant: BenchTenant,
  opts: { size: number; bytes: PdfBytes; sha256?: string; hold: (objectKey: string) => void },
): Promise<{ file: FileRecord; method: string }> {
  const { stack } = ctx;
  const initiated = expectStatus(
    await tenant.invoke('POST', `/v1/buckets/${tenant.bucketId}/uploads`, {
      filename: `bench-${opts.size}.pdf`,
      contentType: 'application/pdf',
      size: opts.size,
      ...(opts.sha256 ? { sha256: opts.sha256 } : {}),
    }),
    201,
    'initiate',
  );
  const file = await stack.app.metadata.files.get(tenant.tenantId, initiated.file.id);
  if (!file) throw new Error(`The initiated file ${initiated.file.id} has no record.`);
  opts.hold(file.objectKey);
  await sendUpload({
    upload: initiated.upload,
    objectKey: file.objectKey,
    size: opts.size,
    bytes: opts.bytes,
    store: stack.app.deps.stores.defaultStore(),
  });
  // The held event has gone by; the record is still pending.
  await stack.eventsIdle();
  const after = await stack.app.metadata.files.get(tenant.tenantId, file.id);
  if (after?.status !== 'pending') throw new Error(`File ${file.id} is ${after?.status}, not pending.`);
  return { file: after, method: initiated.upload.method };
}
