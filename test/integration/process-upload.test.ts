import { GetObjectCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, describe, expect, it } from 'vitest';
import { createdObjectsOf, makeProcessUploadHandler } from '../../functions/process-upload/handler.js';
import { createStorageEventQueue } from '../../local/storage-event-queue.js';
import { createS3ObjectStore } from '../../shared/adapters/s3-object-store.js';
import { createUlidGenerator } from '../../shared/adapters/ulid-id-generator.js';
import { objectKeys } from '../../shared/domain/keys.js';
import type { Actor, Bucket, FileRecord } from '../../shared/domain/model.js';
import type { Logger } from '../../shared/ports/logger.js';
import type { ObjectStoreResolver } from '../../shared/ports/object-store.js';
import { ValidationService } from '../../shared/services/validation-service.js';
import { newTenant, sendBytes } from '../support/api.js';
import { objectCreatedMessage, s3EventRecord, sqsBatch, sqsMessage } from '../support/s3-events.js';
import { CSV, minimalPdf, PNG_1x1 } from '../support/samples.js';
import { composeSecondApp, embeddedS3Client, type SecondApp, storeBucket } from '../support/second-app.js';

/**
 * process-upload called as Lambda calls it: SQS batches whose bodies are S3 notifications. The
 * app is composed from its environment like the function's cold start, against the stack's
 * DynamoDB table but with its own uploads bucket, so the stack's own event queue never races
 * these deliveries.
 */

let second: SecondApp;
let actor: Actor;
let bucket: Bucket;
let logged: { message: string; fields?: Record<string, unknown> }[];
let handler: ReturnType<typeof makeProcessUploadHandler>;

const capturingLogger: Logger = {
  info() {},
  warn() {},
  error: (message, fields) => logged.push({ message, fields }),
};

beforeAll(async () => {
  logged = [];
  second = await composeSecondApp({ label: 'pu', logger: capturingLogger });
  actor = { tenantId: newTenant('pu'), userId: 'alice', roles: ['admin'] };
  bucket = await second.app.services.buckets.create(actor, { name: 'Inbox' });
  handler = makeProcessUploadHandler({ validation: second.app.services.validation, logger: capturingLogger });
});

const s3Record = (key: string, eventName?: string, bucketName = second.uploadsBucket) =>
  s3EventRecord({ bucket: bucketName, key, eventName });
const eventFor = (key: string, eventName?: string) =>
  objectCreatedMessage(second.uploadsBucket, key, eventName);
const batch = sqsBatch;

/** A pending upload whose bytes are already in storage (their event not yet delivered). */
async function uploaded(bytes: Buffer, contentType: string, name = 'file'): Promise<FileRecord> {
  const { file, upload } = await second.app.services.uploads.initiate(actor, bucket.id, {
    filename: name,
    contentType,
    size: bytes.length,
  });
  expect((await sendBytes(upload, bytes)).status).toBe(200);
  return file;
}

const quota = () => second.app.services.quota.get(actor);
const getFile = (id: string) => second.app.services.files.get(actor, id);
const eventsOf = async (fileId: string, type?: string) =>
  (await second.app.services.quota.events(actor, { fileId, type }, { limit: 100 })).items;

describe('createdObjectsOf', () => {
  it.each([
    ['tenants/t/b/f', 'tenants/t/b/f'],
    ['tenants/t/b/Q3+report.pdf', 'tenants/t/b/Q3 report.pdf'],
    ['tenants/t/b/a%2Bb', 'tenants/t/b/a+b'],
    ['tenants/t/b/r%C3%A9sum%C3%A9', 'tenants/t/b/résumé'],
  ])('decodes the S3 key %s as %s', (raw, decoded) => {
    const record = s3Record('x');
    record.s3.object.key = raw;
    expect(createdObjectsOf(JSON.stringify({ Records: [record] })).map((o) => o.key)).toEqual([decoded]);
  });

  it('quotes the ETag as HEAD answers it and keeps the version id', () => {
    const record = s3Record('x');
    record.s3.object.eTag = '0123abc';
    record.s3.object.versionId = 'v-1';
    expect(createdObjectsOf(JSON.stringify({ Records: [record] }))).toEqual([
      { key: record.s3.object.key, etag: '"0123abc"', versionId: 'v-1' },
    ]);
  });
});

describe('process-upload (API.md section 6)', () => {
  it('validates on the event, and the same event delivered again counts once', async () => {
    const pdf = minimalPdf();
    const before = await quota();
    const file = await uploaded(pdf, 'application/pdf', 'Q3 report.pdf');
    const message = eventFor(file.objectKey);

    // S3 may send the notification twice, and SQS may deliver each message twice, even at once.
    const duplicate = sqsMessage(message.body);
    const answers = await Promise.all([handler(batch(message, duplicate)), handler(batch(message))]);
    expect(answers).toEqual([{ batchItemFailures: [] }, { batchItemFailures: [] }]);
    expect(await handler(batch(message))).toEqual({ batchItemFailures: [] });

    expect(await getFile(file.id)).toMatchObject({ status: 'active', mimeType: 'application/pdf' });
    expect(await quota()).toMatchObject({
      usedBytes: before.usedBytes + pdf.length,
      reservedBytes: before.reservedBytes,
      fileCount: before.fileCount + 1,
    });
    const completed = await eventsOf(file.id, 'upload.completed');
    expect(completed).toHaveLength(1);
    expect(completed[0]).toMatchObject({ actor: 'system', status: 'ok' });

    // `complete` after the event answers the same and counts nothing more
    expect(await second.app.services.uploads.complete(actor, file.id, undefined)).toMatchObject({
      status: 'active',
    });
    expect((await quota()).usedBytes).toBe(before.usedBytes + pdf.length);
  });

  it('rejects on the event what the bytes betray, releasing the reservation once', async () => {
    const before = await quota();
    const file = await uploaded(PNG_1x1, 'application/pdf', 'not-a.pdf');
    const message = eventFor(file.objectKey);
    await handler(batch(message, sqsMessage(message.body)));
    expect(await getFile(file.id)).toMatchObject({
      status: 'rejected',
      rejectionReason: 'MIME_TYPE_MISMATCH',
    });
    expect(await quota()).toEqual(before);
    expect(await eventsOf(file.id, 'upload.rejected')).toHaveLength(1);
    expect(await storeBucket(second.uploadsBucket).head(file.objectKey)).toBeNull();
  });

  it('ignores events for keys that name no pending file of the default store', async () => {
    const file = await uploaded(CSV, 'text/csv');
    const before = await quota();
    const { tenantId } = actor;
    const answer = await handler(
      batch(
        eventFor(objectKeys.file(tenantId, bucket.id, createUlidGenerator().next())), // no such file
        eventFor(objectKeys.quarantine(tenantId, bucket.id, file.id)),
        eventFor(objectKeys.preview(tenantId, file.id, 'thumb')),
        eventFor(`tenants/${tenantId}/previews/${file.id}`),
        eventFor(objectKeys.file(tenantId, 'another-bucket', file.id)), // names the file, wrong place
        eventFor(objectKeys.file(newTenant('x'), bucket.id, file.id)), // another tenant
        eventFor(`${objectKeys.file(tenantId, bucket.id, file.id)}/extra`),
        eventFor('uploads/readme.txt'),
        eventFor(`tenants/${tenantId}/${bucket.id}/a file with spaces`),
        eventFor(file.objectKey, 'ObjectRemoved:Delete'), // only creations count
      ),
    );
    expect(answer).toEqual({ batchItemFailures: [] });
    expect(await getFile(file.id)).toMatchObject({ status: 'pending' });
    expect(await quota()).toEqual(before);
    expect(await eventsOf(file.id, 'upload.completed')).toEqual([]);

    // the file's own key is acted on: the ignoring above was not for lack of a valid setup
    await handler(batch(eventFor(file.objectKey)));
    expect(await getFile(file.id)).toMatchObject({ status: 'active' });
  });

  it('acknowledges an s3:TestEvent, which has no records', async () => {
    const test = sqsMessage(
      JSON.stringify({
        Service: 'Amazon S3',
        Event: 's3:TestEvent',
        Time: new Date().toISOString(),
        Bucket: second.uploadsBucket,
        RequestId: 'REQ',
        HostId: 'HOST',
      }),
    );
    expect(await handler(batch(test))).toEqual({ batchItemFailures: [] });
  });

  it('reports malformed bodies as failures of their message only; the rest of the batch is done', async () => {
    // A body that is not an S3 notification can never be processed; it is reported (not dropped) so
    // that the queue's redrive policy moves it to the dead-letter queue where someone will see it.
    const file = await uploaded(CSV, 'text/csv');
    const notJson = sqsMessage('{"Records": [');
    const noS3 = sqsMessage(JSON.stringify({ Records: [{ eventName: 'ObjectCreated:Put' }] }));
    const good = eventFor(file.objectKey);
    const errorsBefore = logged.length;
    const answer = await handler(batch(notJson, good, noS3));
    expect(answer.batchItemFailures).toEqual([
      { itemIdentifier: notJson.messageId },
      { itemIdentifier: noS3.messageId },
    ]);
    expect(await getFile(file.id)).toMatchObject({ status: 'active' });
    expect(logged.slice(errorsBefore).map((l) => l.fields?.messageId)).toEqual([
      notJson.messageId,
      noS3.messageId,
    ]);
  });

  it('dead-letters a poison message after maxReceiveCount instead of retrying it forever', async () => {
    const deadLettered: SQSRecord[] = [];
    let deliveries = 0;
    const queue = createStorageEventQueue({
      consumer: (event) => {
        deliveries += event.Records.length;
        return handler(event);
      },
      prefix: 'tenants/',
      maxReceiveCount: 3,
      onDeadLetter: (record) => deadLettered.push(record),
    });
    try {
      // A broken percent-escape: the key cannot be decoded, now or ever.
      const poison = s3Record('x');
      poison.s3.object.key = `tenants/${actor.tenantId}/${bucket.id}/%E0%A4%A`;
      queue.publish(poison);
      await queue.idle(); // handled means dead-lettered here, after every redelivery
      expect(deadLettered).toHaveLength(1);
      expect(deadLettered[0]?.attributes.ApproximateReceiveCount).toBe('3');
      await new Promise((r) => setTimeout(r, 1_000));
      expect(deliveries).toBe(3);
    } finally {
      await queue.stop();
    }
  });

  it('removes an object no record knows, and one written after its upload is gone (API.md 13.1)', async () => {
    const before = await quota();
    const uploads = storeBucket(second.uploadsBucket);

    // Bytes at a key no file record names (records are written before any URL is issued, so
    // this is a replayed URL or a write around the API): removed, nothing counted.
    const stray = pendingRecord(createUlidGenerator().next());
    await uploads.put({ key: stray.objectKey, body: CSV, contentType: 'text/csv' });
    expect(await handler(batch(eventFor(stray.objectKey)))).toEqual({ batchItemFailures: [] });
    expect(await uploads.head(stray.objectKey)).toBeNull();
    expect(await quota()).toEqual(before);
    expect(await eventsOf(stray.id, 'object.removed')).toMatchObject([{ actor: 'system', status: 'error' }]);

    // An event whose object is no longer there leaves the pending file as it is.
    const { file: noBytes } = await second.app.services.uploads.initiate(actor, bucket.id, {
      filename: 'later.csv',
      contentType: 'text/csv',
      size: CSV.length,
    });
    expect(await handler(batch(eventFor(noBytes.objectKey)))).toEqual({
      batchItemFailures: [],
    });
    expect(await getFile(noBytes.id)).toMatchObject({ status: 'pending' });

    // Bytes written again after the upload was abandoned: not brought back, not counted, removed.
    const gone = await uploaded(CSV, 'text/csv');
    await second.app.services.uploads.abandon(actor, gone.id);
    await uploads.put({ key: gone.objectKey, body: CSV, contentType: 'text/csv' });
    const afterAbandon = await quota();
    expect(await handler(batch(eventFor(gone.objectKey)))).toEqual({ batchItemFailures: [] });
    await expect(getFile(gone.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await uploads.head(gone.objectKey)).toBeNull();
    expect(await quota()).toEqual(afterAbandon);
  });

  it('fails only the message whose validation hit a storage fault; redelivery then succeeds', async () => {
    const [a, b, c] = [
      await uploaded(CSV, 'text/csv', 'a.csv'),
      await uploaded(CSV, 'text/csv', 'b.csv'),
      await uploaded(CSV, 'text/csv', 'c.csv'),
    ];
    // A store whose HEAD of b's object answers 503 SlowDown, as S3 does under load.
    const real = embeddedS3Client();
    const faulty = new S3Client({ region: 'us-east-1' });
    const mock = mockClient(faulty);
    mock.on(HeadObjectCommand).callsFake((input) => {
      if (input.Key === b.objectKey)
        throw Object.assign(new Error('Please reduce your request rate.'), {
          name: 'SlowDown',
          $metadata: { httpStatusCode: 503 },
          $fault: 'server',
        });
      return real.send(new HeadObjectCommand(input));
    });
    mock.on(GetObjectCommand).callsFake((input) => real.send(new GetObjectCommand(input)));
    const store = createS3ObjectStore({ client: faulty, bucket: second.uploadsBucket });
    const stores: ObjectStoreResolver = { defaultStore: () => store, forProvider: async () => store };
    const flaky = makeProcessUploadHandler({
      validation: new ValidationService({ ...second.app.deps, stores }),
      logger: capturingLogger,
    });

    const [ma, mb, mc] = [eventFor(a.objectKey), eventFor(b.objectKey), eventFor(c.objectKey)];
    const answer = await flaky(batch(ma, mb, mc));
    expect(answer).toEqual({ batchItemFailures: [{ itemIdentifier: mb.messageId }] });
    expect((await getFile(a.id)).status).toBe('active');
    expect((await getFile(b.id)).status).toBe('pending');
    expect((await getFile(c.id)).status).toBe('active');
    expect(mock.commandCalls(HeadObjectCommand, { Key: b.objectKey })).toHaveLength(1);

    // SQS redelivers only b; storage has recovered
    expect(await handler(batch(mb))).toEqual({ batchItemFailures: [] });
    expect((await getFile(b.id)).status).toBe('active');
    real.destroy();
  });
});

/** A pending file record of this tenant's bucket, to write as the metadata that arrives late. */
function pendingRecord(id: string): FileRecord {
  const now = new Date().toISOString();
  return {
    id,
    tenantId: actor.tenantId,
    bucketId: bucket.id,
    providerId: 'default',
    originalName: 'early.csv',
    mimeType: 'text/csv',
    declaredMimeType: 'text/csv',
    size: CSV.length,
    sha256: null,
    status: 'pending',
    rejectionReason: null,
    uploadedBy: actor.userId,
    createdAt: now,
    updatedAt: now,
    deletedAt: null,
    uploadExpiresAt: new Date(Date.now() + 3_600_000).toISOString(),
    multipart: null,
    references: [],
    objectKey: objectKeys.file(actor.tenantId, bucket.id, id),
    validatedObject: null,
  };
}
