import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { makeMaintenanceHandler } from '../../functions/maintenance/handler.js';
import type { Actor, Bucket, EntityRef, FileRecord } from '../../shared/domain/model.js';
import { NoSuchUploadError } from '../../shared/ports/object-store.js';
import type { MaintenanceReport } from '../../shared/services/maintenance-service.js';
import { newTenant, sendBytes } from '../support/api.js';
import { CSV, CSV_ONE_PART } from '../support/samples.js';
import { composeSecondApp, manualClock, type SecondApp, storeBucket } from '../support/second-app.js';

/**
 * The scheduled sweep, run by hand with a clock the test moves. The app has its own table: the
 * sweep scans every tenant of its table, and days of advanced time must not reach the files
 * other test files keep in the stack's table (nor may the stack's storage events reach ours,
 * which is how an upload whose event was lost is set up here).
 */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/**
 * A small single upload's window (FILESTORE_UPLOAD_URL_TTL_SECONDS default, 10 minutes, plus a
 * second of transfer) and the sweep's grace of an hour.
 */
const PENDING_SWEEPABLE_AFTER = 10 * MINUTE + HOUR + MINUTE;
/** A one-part multipart upload's: part URLs live an hour, 8 MiB at 1 Mbit/s take 68 s more. */
const MULTIPART_SWEEPABLE_AFTER = HOUR + 2 * MINUTE + HOUR;

const clock = manualClock();
const ticket: EntityRef = { entityType: 'ticket', entityId: 'T-1' };
let second: SecondApp;
let actor: Actor;
let run: () => Promise<MaintenanceReport>;

beforeAll(async () => {
  second = await composeSecondApp({ label: 'mt', clock, ownTable: true });
  run = makeMaintenanceHandler({ maintenance: second.app.services.maintenance });
});

// A tenant per test, so each one's quota holds only its own files; the clock never goes back.
beforeEach(() => {
  actor = { tenantId: newTenant('mt'), userId: 'alice', roles: ['admin'] };
  clock.set(Math.max(clock.ms(), Date.now()));
});

const svc = () => second.app.services;
const store = () => storeBucket(second.uploadsBucket);
const quota = () => svc().quota.get(actor);
const getFile = (id: string) => svc().files.get(actor, id);
const eventsOf = async (fileId: string, type: string) =>
  (await svc().quota.events(actor, { fileId, type }, { limit: 100 })).items;
const referencedIds = (ref: EntityRef) =>
  second.app.metadata.references.listFileIds(actor.tenantId, ref, { limit: 100 });

const aBucket = (retentionDays: number) =>
  svc().buckets.create(actor, { name: `Retain ${retentionDays} ${Math.random()}`, retentionDays });

async function activeFile(bucket: Bucket, references: EntityRef[] = []): Promise<FileRecord> {
  const { file, upload } = await svc().uploads.initiate(actor, bucket.id, {
    filename: 'notes.csv',
    contentType: 'text/csv',
    size: CSV.length,
    references,
  });
  expect((await sendBytes(upload, CSV)).status).toBe(200);
  expect(await svc().uploads.complete(actor, file.id, undefined)).toMatchObject({ status: 'active' });
  return file;
}

async function deletedFile(bucket: Bucket, references: EntityRef[] = []): Promise<FileRecord> {
  const file = await activeFile(bucket, references);
  await svc().files.delete(actor, file.id);
  expect(await getFile(file.id)).toMatchObject({ status: 'deleted' });
  return file;
}

async function expectPurged(file: FileRecord) {
  await expect(getFile(file.id)).rejects.toMatchObject({ code: 'NOT_FOUND', status: 404 });
  expect(await store().head(file.objectKey)).toBeNull();
  const purged = await eventsOf(file.id, 'file.purged');
  expect(purged).toHaveLength(1);
  expect(purged[0]).toMatchObject({ actor: 'system', status: 'ok' });
}

async function expectKept(file: FileRecord, status: 'deleted' | 'active') {
  expect(await getFile(file.id)).toMatchObject({ status });
  expect(await store().head(file.objectKey)).not.toBeNull();
  expect(await eventsOf(file.id, 'file.purged')).toEqual([]);
}

describe('purging soft-deleted files (API.md section 7)', () => {
  it('purges at once with retentionDays 0: object, record, references and quota', async () => {
    const bucket = await aBucket(0);
    const file = await deletedFile(bucket, [ticket]);
    const before = await quota();
    expect(await referencedIds(ticket)).toContain(file.id);
    expect(await store().head(file.objectKey)).not.toBeNull();

    clock.advance(MINUTE);
    const report = await run();
    expect(report.purged).toBeGreaterThanOrEqual(1);
    expect(report.errors).toBe(0);

    await expectPurged(file);
    expect(await referencedIds(ticket)).not.toContain(file.id);
    expect(await quota()).toMatchObject({
      usedBytes: before.usedBytes - CSV.length,
      fileCount: before.fileCount - 1,
      reservedBytes: before.reservedBytes,
    });
  });

  it('keeps a deleted file until its retention has passed', async () => {
    const bucket = await aBucket(2);
    const file = await deletedFile(bucket);

    clock.advance(DAY);
    await run();
    await expectKept(file, 'deleted');
    // still restorable within retention
    expect(
      (await svc().files.list(actor, { status: 'deleted', bucketId: bucket.id, limit: 10 })).items,
    ).toEqual([expect.objectContaining({ id: file.id })]);

    clock.advance(2 * DAY);
    await run();
    await expectPurged(file);
  });

  it('reads the retention at purge time, not at deletion time', async () => {
    const shortened = await aBucket(30);
    const lengthened = await aBucket(0);
    const a = await deletedFile(shortened);
    const b = await deletedFile(lengthened);
    await svc().buckets.update(actor, shortened.id, { retentionDays: 0 });
    await svc().buckets.update(actor, lengthened.id, { retentionDays: 5 });

    clock.advance(MINUTE);
    await run();
    await expectPurged(a);
    await expectKept(b, 'deleted');

    clock.advance(6 * DAY);
    await run();
    await expectPurged(b);
  });

  it('never purges a restored file', async () => {
    const bucket = await aBucket(0);
    const file = await deletedFile(bucket);
    await svc().files.restore(actor, file.id);
    const before = await quota();

    clock.advance(10 * DAY);
    await run();
    await expectKept(file, 'active');
    expect(await quota()).toEqual(before);
    const download = await svc().files.download(actor, file.id);
    expect(Buffer.from(await (await fetch(download.url)).arrayBuffer()).equals(CSV)).toBe(true);
  });
});

describe('settling expired uploads (API.md section 5)', () => {
  it('abandons an upload whose bytes never came, only once its instructions and grace have expired', async () => {
    const bucket = await aBucket(30);
    const before = await quota();
    const { file } = await svc().uploads.initiate(actor, bucket.id, {
      filename: 'never.csv',
      contentType: 'text/csv',
      size: 42,
      references: [ticket],
    });
    expect((await quota()).reservedBytes).toBe(before.reservedBytes + 42);

    // past the URL's expiry but within the grace: a slow client may still be sending
    clock.advance(10 * MINUTE + 30 * MINUTE);
    await run();
    expect(await getFile(file.id)).toMatchObject({ status: 'pending' });

    clock.advance(PENDING_SWEEPABLE_AFTER - 40 * MINUTE + MINUTE);
    const report = await run();
    expect(report.abandoned).toBeGreaterThanOrEqual(1);
    await expect(getFile(file.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await quota()).toEqual(before);
    expect(await referencedIds(ticket)).not.toContain(file.id);
    const abandoned = await eventsOf(file.id, 'upload.abandoned');
    expect(abandoned).toHaveLength(1);
    expect(abandoned[0]).toMatchObject({ actor: 'system' });
  });

  it('validates an upload whose bytes arrived but whose storage event was lost', async () => {
    const bucket = await aBucket(30);
    const before = await quota();
    const { file, upload } = await svc().uploads.initiate(actor, bucket.id, {
      filename: 'arrived.csv',
      contentType: 'text/csv',
      size: CSV.length,
    });
    expect((await sendBytes(upload, CSV)).status).toBe(200);

    clock.advance(PENDING_SWEEPABLE_AFTER + MINUTE);
    const report = await run();
    expect(report.validated).toBeGreaterThanOrEqual(1);
    expect(await getFile(file.id)).toMatchObject({ status: 'active', mimeType: 'text/csv' });
    expect(await store().head(file.objectKey)).not.toBeNull();
    expect(await quota()).toEqual({
      ...before,
      usedBytes: before.usedBytes + CSV.length,
      fileCount: before.fileCount + 1,
    });
    const completed = await eventsOf(file.id, 'upload.completed');
    expect(completed).toHaveLength(1);
    expect(completed[0]).toMatchObject({ actor: 'system' });
  });

  it('aborts an expired multipart upload and releases its reservation', async () => {
    const bucket = await aBucket(30);
    const before = await quota();
    const { file, upload } = await svc().uploads.initiate(actor, bucket.id, {
      filename: 'big.csv',
      contentType: 'text/csv',
      size: CSV_ONE_PART.length,
      multipart: true,
    });
    if (upload.method !== 'MULTIPART') throw new Error(`expected a multipart upload, got ${upload.method}`);
    const part = await fetch(upload.parts[0]!.url, { method: 'PUT', body: new Uint8Array(CSV_ONE_PART) });
    expect(part.status).toBe(200);
    const etag = part.headers.get('etag') as string;

    clock.advance(MULTIPART_SWEEPABLE_AFTER + MINUTE);
    await run();
    await expect(getFile(file.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await quota()).toEqual(before);
    expect(await eventsOf(file.id, 'upload.abandoned')).toHaveLength(1);
    // storage no longer holds the upload: its parts cannot be assembled any more
    await expect(
      store().completeMultipartUpload({
        key: file.objectKey,
        uploadId: upload.uploadId,
        parts: [{ partNumber: 1, etag }],
      }),
    ).rejects.toBeInstanceOf(NoSuchUploadError);
    expect(await store().head(file.objectKey)).toBeNull();
  });
});

describe('running maintenance again', () => {
  it('changes nothing the second time', async () => {
    const bucket = await aBucket(0);
    const purged = await deletedFile(bucket);
    const { file: expired } = await svc().uploads.initiate(actor, bucket.id, {
      filename: 'late.csv',
      contentType: 'text/csv',
      size: 7,
    });
    clock.advance(PENDING_SWEEPABLE_AFTER + MINUTE);

    const first = await run();
    expect(first).toMatchObject({ errors: 0 });
    expect(first.purged + first.abandoned).toBeGreaterThanOrEqual(2);
    await expectPurged(purged);
    await expect(getFile(expired.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const quotaAfterFirst = await quota();
    const eventsAfterFirst = (await svc().quota.events(actor, {}, { limit: 1000 })).items;

    expect(await run()).toEqual({ purged: 0, abandoned: 0, validated: 0, errors: 0 });
    expect(await quota()).toEqual(quotaAfterFirst);
    expect((await svc().quota.events(actor, {}, { limit: 1000 })).items).toEqual(eventsAfterFirst);
  });
});
