import { describe, expect, it } from 'vitest';
import type { Actor, AuditEvent, Bucket, FileRecord, Provider } from '../../../shared/domain/model.js';
import {
  InvalidPartsError,
  NoSuchUploadError,
  type ObjectStore,
  ObjectStoreError,
} from '../../../shared/ports/object-store.js';
import type { MetadataStore } from '../../../shared/ports/repositories.js';
import { createServices, type ServiceDeps } from '../../../shared/services/index.js';

// In-memory fakes of the ports, just big enough for the upload rules under test.

const MiB = 1024 * 1024;
const CSV = Buffer.from('id,name\n1,Widget\n');
const actor: Actor = { tenantId: 'acme', userId: 'alice', roles: ['admin'] };
const bucket: Bucket = {
  id: 'bkt1',
  name: 'Inbox',
  providerId: 'default',
  path: '/',
  allowedMimeTypes: null,
  maxFileSize: 1024 * MiB,
  retentionDays: 30,
  restricted: false,
  deleteUnreferenced: false,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
};

/** Files, the quota counters and the audit trail of one tenant, kept in maps. */
function memoryMetadata() {
  const files = new Map<string, FileRecord>();
  const quota = { limitBytes: null, usedBytes: 0, reservedBytes: 0, fileCount: 0 };
  const events: AuditEvent[] = [];
  // The event of a transition is kept only when the transition applies, as in one transaction.
  const transition = (file: FileRecord, from: string, apply: (f: FileRecord) => void, event?: AuditEvent) => {
    const current = files.get(file.id);
    if (current?.status !== from) return false;
    apply(current);
    if (event) events.push(event);
    return true;
  };
  const metadata = {
    buckets: { get: async (_t: string, id: string) => (id === bucket.id ? bucket : null) },
    grants: { findForUser: async () => [] },
    references: { removeAllForFile: async () => undefined },
    events: { record: async (_t: string, event: AuditEvent) => void events.push(event) },
    files: {
      createPending: async (file: FileRecord, event?: AuditEvent) => {
        files.set(file.id, structuredClone(file));
        quota.reservedBytes += file.size;
        if (event) events.push(event);
      },
      get: async (_t: string, id: string) => structuredClone(files.get(id)) ?? null,
      setMultipart: async (file: FileRecord, multipart: FileRecord['multipart']) => {
        (files.get(file.id) as FileRecord).multipart = multipart;
      },
      abandon: async (file: FileRecord, event?: AuditEvent) =>
        transition(
          file,
          'pending',
          () => {
            files.delete(file.id);
            quota.reservedBytes -= file.size;
          },
          event,
        ),
      activate: async (file: FileRecord, changes: { mimeType: string }, event?: AuditEvent) =>
        transition(
          file,
          'pending',
          (f) => {
            Object.assign(f, { status: 'active', mimeType: changes.mimeType });
            quota.reservedBytes -= file.size;
            quota.usedBytes += file.size;
            quota.fileCount += 1;
          },
          event,
        ),
      reject: async (file: FileRecord, ...rest: [string, string, unknown, AuditEvent?]) =>
        transition(
          file,
          'pending',
          (f) => {
            f.status = 'rejected';
            quota.reservedBytes -= file.size;
          },
          rest[3],
        ),
    },
  };
  return { metadata: metadata as unknown as MetadataStore, files, quota, events };
}

/** An object store that answers only what a test gives it; any other call fails the test. */
function fakeStore(given: Partial<ObjectStore>): ObjectStore {
  const unexpected = (name: string) => async () => {
    throw new Error(`unexpected ObjectStore.${name}`);
  };
  const names: (keyof ObjectStore)[] = [
    'presignPut',
    'presignPost',
    'presignGet',
    'createMultipartUpload',
    'presignUploadPart',
    'listParts',
    'completeMultipartUpload',
    'abortMultipartUpload',
    'head',
    'readFirstBytes',
    'stream',
    'put',
    'tag',
    'copy',
    'delete',
    'deleteMany',
    'list',
  ];
  const store = Object.fromEntries(names.map((name) => [name, unexpected(name)])) as unknown as ObjectStore;
  return Object.assign(store, given);
}

function setup(store: ObjectStore, forProvider?: () => Promise<ObjectStore>) {
  const memory = memoryMetadata();
  let n = 0;
  const deps: ServiceDeps = {
    metadata: memory.metadata,
    stores: { defaultStore: () => store, forProvider: forProvider ?? (async () => store) },
    secrets: {} as ServiceDeps['secrets'],
    clock: { now: () => new Date('2026-11-28T14:00:00.000Z') },
    ids: { next: () => `01FILE${String(++n).padStart(20, '0')}` },
    logger: { info() {}, warn() {}, error() {} },
    settings: {
      maxFileSize: 5 * 1024 * MiB,
      multipartThreshold: 100 * MiB,
      // Small enough for the CSV below to be a one-part multipart upload.
      minPartSize: 16,
      uploadUrlTtlSeconds: 600,
      partUrlTtlSeconds: 3600,
      downloadUrlTtlSeconds: 300,
      quarantineRejected: true,
      sniffBytes: 4100,
    },
  };
  const services = createServices(deps, { id: 'default' } as Provider);
  return { ...memory, services };
}

const csvUpload = { filename: 'rows.csv', contentType: 'text/csv', size: CSV.length };
const storageDown = () => Promise.reject(new ObjectStoreError('storage is unavailable'));

describe('UploadService.initiate when storage fails after the reservation', () => {
  it.each([
    ['presigning a PUT fails', { presignPut: storageDown }, {}, undefined],
    ['presigning a POST fails', { presignPost: storageDown }, { uploadMethod: 'POST' as const }, undefined],
    [
      'starting a multipart upload fails',
      { createMultipartUpload: storageDown },
      { multipart: true },
      undefined,
    ],
    ['the provider store cannot be built', {}, {}, storageDown],
  ])('gives the reservation back and leaves no file when %s', async (_, given, extra, forProvider) => {
    const { services, files, quota, events } = setup(fakeStore(given), forProvider);
    await expect(services.uploads.initiate(actor, bucket.id, { ...csvUpload, ...extra })).rejects.toThrow(
      'storage is unavailable',
    );
    expect(files.size).toBe(0);
    expect(quota).toMatchObject({ reservedBytes: 0, usedBytes: 0, fileCount: 0 });
    // The initiation was written with the file, so its abandonment is told with its removal.
    expect(events.map((e) => e.type)).toEqual(['upload.initiated', 'upload.abandoned']);
    expect(events[1]).toMatchObject({
      actor: 'system',
      status: 'error',
      details: { reason: 'storage-failed' },
    });
  });

  it('aborts the multipart upload it started when presigning a part fails', async () => {
    const aborted: string[] = [];
    const store = fakeStore({
      createMultipartUpload: async () => ({ uploadId: 'mpu-9' }),
      presignUploadPart: storageDown,
      abortMultipartUpload: async ({ uploadId }) => {
        aborted.push(uploadId);
      },
    });
    const { services, files, quota } = setup(store);
    await expect(
      services.uploads.initiate(actor, bucket.id, { ...csvUpload, multipart: true }),
    ).rejects.toThrow('storage is unavailable');
    expect(aborted).toEqual(['mpu-9']);
    expect(files.size).toBe(0);
    expect(quota.reservedBytes).toBe(0);
  });

  it('keeps the reservation and the pending file when presigning succeeds', async () => {
    const store = fakeStore({ presignPut: async () => ({ url: 'https://store/put', headers: {} }) });
    const { services, files, quota, events } = setup(store);
    const { file, upload } = await services.uploads.initiate(actor, bucket.id, csvUpload);
    expect(upload).toMatchObject({ method: 'PUT', url: 'https://store/put' });
    expect(files.get(file.id)).toMatchObject({ status: 'pending' });
    expect(quota.reservedBytes).toBe(CSV.length);
    expect(events.map((e) => e.type)).toEqual(['upload.initiated']);
  });
});

describe('UploadService.initiate of a multipart upload', () => {
  it('refuses multipart below the minimum part size, before anything is reserved', async () => {
    // Prepare
    const { services, files, quota } = setup(fakeStore({}));

    // Act
    const initiation = services.uploads.initiate(actor, bucket.id, {
      ...csvUpload,
      size: 15,
      multipart: true,
    });

    // Assess
    await expect(initiation).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(files.size).toBe(0);
    expect(quota.reservedBytes).toBe(0);
  });

  it('signs each part URL with its exact length, the last one the remainder', async () => {
    // Prepare
    const signed: { partNumber: number; contentLength: number }[] = [];
    const store = fakeStore({
      createMultipartUpload: async () => ({ uploadId: 'mpu-2' }),
      presignUploadPart: async ({ partNumber, contentLength }) => {
        signed.push({ partNumber, contentLength });
        return { url: `https://store/part/${partNumber}`, headers: {} };
      },
    });
    const { services } = setup(store);
    const size = 2 * MiB + 5;

    // Act
    const { upload } = await services.uploads.initiate(actor, bucket.id, {
      ...csvUpload,
      size,
      multipart: true,
    });

    // Assess
    expect(upload).toMatchObject({ method: 'MULTIPART', partSize: MiB });
    expect(signed.sort((a, b) => a.partNumber - b.partNumber)).toEqual([
      { partNumber: 1, contentLength: MiB },
      { partNumber: 2, contentLength: MiB },
      { partNumber: 3, contentLength: 5 },
    ]);
  });
});

describe('UploadService.initiate of a single upload', () => {
  it('stores an active type as octet-stream and every file as an attachment with its name', async () => {
    // Prepare
    const presigned: { contentType: string; contentDisposition: string }[] = [];
    const store = fakeStore({
      presignPut: async (input) => {
        presigned.push({ contentType: input.contentType, contentDisposition: input.contentDisposition });
        return { url: 'https://store/put', headers: {} };
      },
    });
    const { services } = setup(store);

    // Act
    await services.uploads.initiate(actor, bucket.id, {
      filename: 'page.html',
      contentType: 'text/html',
      size: 10,
    });
    await services.uploads.initiate(actor, bucket.id, {
      filename: 'Q3 "é".csv',
      contentType: 'text/csv',
      size: 10,
    });

    // Assess
    expect(presigned).toEqual([
      {
        contentType: 'application/octet-stream',
        contentDisposition: expect.stringMatching(/^attachment; filename="page.html"/),
      },
      {
        contentType: 'text/csv',
        contentDisposition: `attachment; filename="Q3 _e_.csv"; filename*=UTF-8''Q3%20%22%C3%A9%22.csv`,
      },
    ]);
  });

  it('keeps the file pending past its URL for as long as its bytes need on a slow line', async () => {
    // Prepare
    const { services, files } = setup(fakeStore({ presignPut: async () => ({ url: 'u', headers: {} }) }));

    // Act
    const small = await services.uploads.initiate(actor, bucket.id, { ...csvUpload, size: 10 });
    const big = await services.uploads.initiate(actor, bucket.id, { ...csvUpload, size: 100 * MiB });

    // Assess: URLs live 10 minutes; 100 MiB at 1 Mbit/s takes 839 s more.
    expect(small.upload.expiresAt).toBe('2026-11-28T14:10:00.000Z');
    expect(files.get(small.file.id)?.uploadExpiresAt).toBe('2026-11-28T14:10:01.000Z');
    expect(files.get(big.file.id)?.uploadExpiresAt).toBe('2026-11-28T14:23:59.000Z');
  });
});

describe('UploadService.complete of a multipart upload', () => {
  /** A pending multipart upload of CSV bytes; `store` answers for storage afterwards. */
  async function pendingMultipart(store: ObjectStore) {
    Object.assign(store, {
      createMultipartUpload: async () => ({ uploadId: 'mpu-1' }),
      presignUploadPart: async () => ({ url: 'https://store/part', headers: {} }),
    });
    const ctx = setup(store);
    const { file } = await ctx.services.uploads.initiate(actor, bucket.id, { ...csvUpload, multipart: true });
    return { ...ctx, file };
  }
  const parts = [{ partNumber: 1, etag: '"etag-1"' }];
  const noSuchUpload = () => Promise.reject(new NoSuchUploadError('already completed'));

  it('goes on to validation when the upload was already completed at storage and the object is there', async () => {
    const store = fakeStore({
      completeMultipartUpload: noSuchUpload,
      head: async () => ({
        size: CSV.length,
        contentType: 'text/csv',
        etag: null,
        versionId: null,
        checksumSha256Base64: null,
        lastModified: null,
      }),
      readFirstBytes: async () => new Uint8Array(CSV),
    });
    const { services, file, quota, events } = await pendingMultipart(store);

    const done = await services.uploads.complete(actor, file.id, parts);
    expect(done).toMatchObject({ id: file.id, status: 'active', mimeType: 'text/csv' });
    expect(quota).toMatchObject({ reservedBytes: 0, usedBytes: CSV.length, fileCount: 1 });
    expect(events.filter((e) => e.type === 'upload.completed')).toEqual([
      expect.objectContaining({ actor: 'alice', fileId: file.id }),
    ]);
  });

  it('is a conflict when the upload is gone and no object is there either; the file stays pending', async () => {
    const store = fakeStore({ completeMultipartUpload: noSuchUpload, head: async () => null });
    const { services, file, files, quota } = await pendingMultipart(store);
    await expect(services.uploads.complete(actor, file.id, parts)).rejects.toMatchObject({
      code: 'CONFLICT',
    });
    expect(files.get(file.id)?.status).toBe('pending');
    expect(quota.reservedBytes).toBe(CSV.length);
  });

  it('answers VALIDATION_FAILED when storage says the parts do not match', async () => {
    const store = fakeStore({
      completeMultipartUpload: () => Promise.reject(new InvalidPartsError('InvalidPart')),
    });
    const { services, file, files } = await pendingMultipart(store);
    await expect(services.uploads.complete(actor, file.id, parts)).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    expect(files.get(file.id)?.status).toBe('pending');
  });

  it('does not swallow other storage failures', async () => {
    const store = fakeStore({ completeMultipartUpload: storageDown });
    const { services, file, files } = await pendingMultipart(store);
    await expect(services.uploads.complete(actor, file.id, parts)).rejects.toBeInstanceOf(ObjectStoreError);
    expect(files.get(file.id)?.status).toBe('pending');
  });
});
