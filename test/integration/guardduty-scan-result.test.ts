import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeMalwareScanResultHandler } from '../../functions/malware-scan-result/handler.js';
import type { Actor } from '../../shared/domain/model.js';
import { silentLogger } from '../../shared/ports/logger.js';
import { newTenant, sendBytes } from '../support/api.js';
import { minimalPdf } from '../support/samples.js';
import { composeSecondApp, type SecondApp, storeBucket } from '../support/second-app.js';

/**
 * API.md 13.6 as in AWS (`MALWARE_SCANNER=guardduty`), against the stack's DynamoDB and S3: a
 * file waits with `scan: pending` until GuardDuty's scan-result event arrives, which settles it.
 * GuardDuty itself cannot run here; its events are built as AWS documents them.
 */

const actor: Actor = { tenantId: newTenant('gd'), userId: 'alice', roles: ['admin'] };
let second: SecondApp;
let bucketId: string;

beforeAll(async () => {
  second = await composeSecondApp({ label: 'gd', env: { MALWARE_SCANNER: 'guardduty' } });
  bucketId = (await second.app.services.buckets.create(actor, { name: 'Scanned', malwareScan: 'required' }))
    .id;
});
afterAll(async () => {
  await second?.app.close();
});

async function pendingScan(text: string) {
  const { services } = second.app;
  const bytes = minimalPdf(text);
  const { file, upload } = await services.uploads.initiate(actor, bucketId, {
    filename: `${text}.pdf`,
    contentType: 'application/pdf',
    size: bytes.length,
  });
  expect((await sendBytes(upload, bytes)).ok).toBe(true);
  const completed = await services.uploads.complete(actor, file.id, undefined);
  expect(completed).toMatchObject({ status: 'pending', scan: 'pending' });
  const head = await storeBucket(second.uploadsBucket).head(file.objectKey);
  return { file, etag: (head?.etag ?? '').replace(/"/g, '') };
}

const scanResult = (key: string, etag: string, status: string) => ({
  source: 'aws.guardduty',
  'detail-type': 'GuardDuty Malware Protection Object Scan Result',
  detail: {
    scanStatus: status.endsWith('FOUND') ? 'COMPLETED' : 'SKIPPED',
    resourceType: 'S3_OBJECT',
    s3ObjectDetails: { bucketName: second.uploadsBucket, objectKey: key, eTag: etag, s3Throttled: false },
    scanResultDetails: {
      scanResultStatus: status,
      threats: status === 'THREATS_FOUND' ? [{ name: 'EICAR-Test-File (not a virus)' }] : null,
    },
  },
});

describe('GuardDuty scan results settle files', () => {
  const handler = () =>
    makeMalwareScanResultHandler({
      validation: second.app.services.validation,
      logger: silentLogger,
      uploadsBucket: second.uploadsBucket,
    });

  it('NO_THREATS_FOUND makes the waiting file active with scan: clean', async () => {
    const { file, etag } = await pendingScan('clean');
    expect(await handler()(scanResult(file.objectKey, etag, 'NO_THREATS_FOUND'))).toBe('active');
    expect(await second.app.services.files.get(actor, file.id)).toMatchObject({
      status: 'active',
      scan: 'clean',
    });
    // The same event again changes nothing.
    expect(await handler()(scanResult(file.objectKey, etag, 'NO_THREATS_FOUND'))).toBe('unchanged');
  });

  it('THREATS_FOUND rejects it MALWARE_DETECTED and records file.infected with the threat', async () => {
    const { file, etag } = await pendingScan('bad');
    expect(await handler()(scanResult(file.objectKey, etag, 'THREATS_FOUND'))).toBe('rejected');
    expect(await second.app.services.files.get(actor, file.id)).toMatchObject({
      status: 'rejected',
      rejectionReason: 'MALWARE_DETECTED',
      scan: 'infected',
    });
    const events = await second.app.metadata.events.list(actor.tenantId, { fileId: file.id }, { limit: 10 });
    expect(events.items.find((e) => e.type === 'file.infected')?.details).toMatchObject({
      scanner: 'guardduty',
      signature: 'EICAR-Test-File (not a virus)',
    });
  });

  it.each(['UNSUPPORTED', 'ACCESS_DENIED', 'FAILED'])(
    '%s is never clean: rejected SCAN_FAILED',
    async (status) => {
      const { file, etag } = await pendingScan(status.toLowerCase());
      await handler()(scanResult(file.objectKey, etag, status));
      expect(await second.app.services.files.get(actor, file.id)).toMatchObject({
        status: 'rejected',
        rejectionReason: 'SCAN_FAILED',
        scan: 'failed',
      });
    },
  );

  it('a result about another object than the one stored changes nothing', async () => {
    const { file } = await pendingScan('other');
    await handler()(scanResult(file.objectKey, 'ffffffffffffffffffffffffffffffff', 'NO_THREATS_FOUND'));
    expect(await second.app.services.files.get(actor, file.id)).toMatchObject({
      status: 'pending',
      scan: 'pending',
    });
  });
});
