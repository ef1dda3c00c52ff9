import { DeleteCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoMetadataStore } from '../../shared/adapters/dynamodb/create-dynamo-metadata-store.js';
import { tableKeys } from '../../shared/domain/keys.js';
import type { AuditEvent, FileRecord } from '../../shared/domain/model.js';
import {
  AlreadyExistsError,
  type FileListQuery,
  InvalidCursorError,
  type MetadataStore,
  NotFoundError,
  QuotaExceededError,
} from '../../shared/ports/repositories.js';
import {
  ANY_OBJECT,
  aFile,
  at,
  createTestStore,
  type TestStore,
  ulidLike,
} from './dynamodb-store-fixture.js';

let fixture: TestStore;
let store: MetadataStore;

beforeAll(async () => {
  fixture = await createTestStore('files');
  store = fixture.store;
});
afterAll(() => fixture.close());

/** Every page of a listing, following cursors, with the page sizes seen. */
async function listAll(query: FileListQuery, limit: number) {
  const pages: FileRecord[][] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await store.files.list(query, { limit, cursor });
    expect(page.items.length).toBeLessThanOrEqual(limit);
    // A cursor promises more: the page it leads to is never empty.
    if (cursor !== undefined) expect(page.items.length).toBeGreaterThan(0);
    pages.push(page.items);
    if (page.nextCursor === null) return pages;
    cursor = page.nextCursor;
  }
}

async function activeFile(tenantId: string, n: number, overrides: Partial<FileRecord> = {}) {
  const file = aFile(tenantId, n, overrides);
  await store.files.createPending(file);
  expect(
    await store.files.activate(file, {
      mimeType: file.mimeType,
      sha256: null,
      validatedObject: ANY_OBJECT,
      at: at(n + 1),
    }),
  ).toBe(true);
  return file;
}

describe('creating pending files', () => {
  it('stores the record with its references and reserves its bytes', async () => {
    // Prepare
    const tenant = 'create';
    const file = aFile(tenant, 1, {
      size: 250,
      sha256: 'a'.repeat(64),
      references: [
        { entityType: 'ticket', entityId: 'T-2' },
        { entityType: 'project', entityId: 'P-1' },
        { entityType: 'ticket', entityId: 'T-1' },
        { entityType: 'ticket', entityId: 'T-2' },
      ],
    });

    // Act
    await store.files.createPending(file);

    // Assess
    expect(await store.files.get(tenant, file.id)).toEqual({
      ...file,
      references: [
        { entityType: 'project', entityId: 'P-1' },
        { entityType: 'ticket', entityId: 'T-1' },
        { entityType: 'ticket', entityId: 'T-2' },
      ],
    });
    expect(await store.quota.get(tenant)).toEqual({
      limitBytes: null,
      usedBytes: 0,
      reservedBytes: 250,
      fileCount: 0,
    });
    const ticketFiles = await store.references.listFileIds(
      tenant,
      { entityType: 'ticket', entityId: 'T-1' },
      { limit: 10 },
    );
    expect(ticketFiles).toEqual([file.id]);
  });

  it('refuses a second file with the same id and reserves nothing for it', async () => {
    const tenant = 'create-twice';
    await store.files.createPending(aFile(tenant, 1));
    await expect(store.files.createPending(aFile(tenant, 1, { size: 5000 }))).rejects.toBeInstanceOf(
      AlreadyExistsError,
    );
    expect((await store.quota.get(tenant)).reservedBytes).toBe(100);
  });

  it('never reserves beyond the limit under 50 concurrent uploads', async () => {
    // Prepare
    const tenant = 'race';
    await store.quota.setLimit(tenant, 1000);
    const files = Array.from({ length: 50 }, (_, i) => aFile(tenant, i, { size: 100 }));

    // Act
    const outcomes = await Promise.allSettled(files.map((file) => store.files.createPending(file)));

    // Assess
    const succeeded = outcomes.filter((o) => o.status === 'fulfilled');
    const refused = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason] : []));
    expect(succeeded).toHaveLength(10);
    expect(refused).toHaveLength(40);
    for (const reason of refused) expect(reason).toBeInstanceOf(QuotaExceededError);
    expect(await store.quota.get(tenant)).toEqual({
      limitBytes: 1000,
      usedBytes: 0,
      reservedBytes: 1000,
      fileCount: 0,
    });
    const listed = await store.files.list({ tenantId: tenant, partition: 'live' }, { limit: 100 });
    expect(listed.items).toHaveLength(10);
  });

  it('says how full the quota was when it refuses', async () => {
    const tenant = 'refusal';
    await store.quota.setLimit(tenant, 500);
    await store.files.createPending(aFile(tenant, 1, { size: 400 }));
    const error = await store.files.createPending(aFile(tenant, 2, { size: 101 })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QuotaExceededError);
    expect((error as QuotaExceededError).quota).toEqual({
      limitBytes: 500,
      usedBytes: 0,
      reservedBytes: 400,
      fileCount: 0,
    });
    // Exactly the rest still fits.
    await store.files.createPending(aFile(tenant, 3, { size: 100 }));
  });

  it('accepts a limit below current use, which stops even empty uploads', async () => {
    const tenant = 'over-limit';
    await activeFile(tenant, 1, { size: 300 });
    expect(await store.quota.setLimit(tenant, 200)).toEqual({
      limitBytes: 200,
      usedBytes: 300,
      reservedBytes: 0,
      fileCount: 1,
    });
    await expect(store.files.createPending(aFile(tenant, 2, { size: 0 }))).rejects.toBeInstanceOf(
      QuotaExceededError,
    );
    await store.quota.setLimit(tenant, 350);
    await expect(store.files.createPending(aFile(tenant, 3, { size: 51 }))).rejects.toBeInstanceOf(
      QuotaExceededError,
    );
    await store.files.createPending(aFile(tenant, 4, { size: 50 }));
  });

  it('records the multipart upload, and refuses it for a missing file', async () => {
    const tenant = 'multipart';
    const file = aFile(tenant, 1);
    await store.files.createPending(file);
    const multipart = { uploadId: 'up-1', partSize: 8 * 1024 * 1024, partCount: 3 };
    await store.files.setMultipart(file, multipart);
    expect((await store.files.get(tenant, file.id))?.multipart).toEqual(multipart);
    await expect(store.files.setMultipart(aFile(tenant, 2), multipart)).rejects.toBeInstanceOf(NotFoundError);
    expect(await store.files.get(tenant, ulidLike(2))).toBeNull();
  });
});

describe('transitions and the quota', () => {
  it('activate moves the reservation to used bytes once, however often it runs', async () => {
    // Prepare
    const tenant = 'activate';
    const file = aFile(tenant, 1, { size: 300, mimeType: 'application/octet-stream' });
    await store.files.createPending(file);
    const validatedObject = { etag: '"0123"', versionId: 'v1' };
    const changes = { mimeType: 'image/png', sha256: 'b'.repeat(64), validatedObject, at: at(5) };

    // Act
    const outcomes = await Promise.all([1, 2, 3, 4, 5].map(() => store.files.activate(file, changes)));
    const again = await store.files.activate(file, changes);

    // Assess
    expect(outcomes.filter(Boolean)).toHaveLength(1);
    expect(again).toBe(false);
    expect(await store.quota.get(tenant)).toEqual({
      limitBytes: null,
      usedBytes: 300,
      reservedBytes: 0,
      fileCount: 1,
    });
    expect(await store.files.get(tenant, file.id)).toMatchObject({
      status: 'active',
      mimeType: 'image/png',
      sha256: 'b'.repeat(64),
      validatedObject,
      updatedAt: at(5),
    });
  });

  it('reject releases the reservation once and the file can no longer be activated', async () => {
    const tenant = 'reject';
    await store.quota.setLimit(tenant, 1000);
    const file = aFile(tenant, 1, { size: 1000 });
    await store.files.createPending(file);

    expect(await store.files.reject(file, 'SIZE_MISMATCH', at(2))).toBe(true);
    expect(await store.files.reject(file, 'SIZE_MISMATCH', at(3))).toBe(false);
    expect(
      await store.files.activate(file, {
        mimeType: 'application/pdf',
        sha256: null,
        validatedObject: ANY_OBJECT,
        at: at(4),
      }),
    ).toBe(false);

    expect(await store.quota.get(tenant)).toEqual({
      limitBytes: 1000,
      usedBytes: 0,
      reservedBytes: 0,
      fileCount: 0,
    });
    expect(await store.files.get(tenant, file.id)).toMatchObject({
      status: 'rejected',
      rejectionReason: 'SIZE_MISMATCH',
      updatedAt: at(2),
    });
    // The released bytes are usable again.
    await store.files.createPending(aFile(tenant, 5, { size: 1000 }));
  });

  it('abandon removes a pending file and frees its bytes; an active file cannot be abandoned', async () => {
    const tenant = 'abandon';
    const pending = aFile(tenant, 1, { size: 70 });
    await store.files.createPending(pending);
    const active = await activeFile(tenant, 2, { size: 30 });

    expect(await store.files.abandon(pending)).toBe(true);
    expect(await store.files.abandon(pending)).toBe(false);
    expect(await store.files.abandon(active)).toBe(false);

    expect(await store.files.get(tenant, pending.id)).toBeNull();
    expect(await store.quota.get(tenant)).toEqual({
      limitBytes: null,
      usedBytes: 30,
      reservedBytes: 0,
      fileCount: 1,
    });
  });

  it('soft delete keeps the bytes counted, restore brings the file back, purge frees them', async () => {
    // Prepare
    const tenant = 'lifecycle';
    await store.quota.setLimit(tenant, 1000);
    const file = await activeFile(tenant, 1, { size: 400 });
    const live = { tenantId: tenant, partition: 'live' } as const;
    const deleted = { tenantId: tenant, partition: 'deleted' } as const;

    // Act + Assess: soft delete
    expect(await store.files.softDelete(file, at(10))).toBe(true);
    expect(await store.files.softDelete(file, at(11))).toBe(false);
    expect(await store.files.get(tenant, file.id)).toMatchObject({ status: 'deleted', deletedAt: at(10) });
    expect(await store.quota.get(tenant)).toEqual({
      limitBytes: 1000,
      usedBytes: 400,
      reservedBytes: 0,
      fileCount: 1,
    });
    expect((await store.files.list(live, { limit: 10 })).items).toEqual([]);
    expect(
      (await store.files.list({ ...deleted, bucketId: 'bkt1' }, { limit: 10 })).items.map((f) => f.id),
    ).toEqual([file.id]);

    // restore
    expect(await store.files.restore(file, at(12))).toBe(true);
    expect(await store.files.restore(file, at(13))).toBe(false);
    expect(await store.files.get(tenant, file.id)).toMatchObject({
      status: 'active',
      deletedAt: null,
      updatedAt: at(12),
    });
    expect((await store.files.list(live, { limit: 10 })).items.map((f) => f.id)).toEqual([file.id]);
    expect((await store.files.list(deleted, { limit: 10 })).items).toEqual([]);

    // purge only after a new soft delete
    expect(await store.files.purge(file)).toBe(false);
    expect(await store.files.softDelete(file, at(14))).toBe(true);
    expect(await store.files.purge(file)).toBe(true);
    expect(await store.files.purge(file)).toBe(false);
    expect(await store.files.get(tenant, file.id)).toBeNull();
    expect(await store.quota.get(tenant)).toEqual({
      limitBytes: 1000,
      usedBytes: 0,
      reservedBytes: 0,
      fileCount: 0,
    });
    // All 1000 bytes are free again.
    await store.files.createPending(aFile(tenant, 20, { size: 1000 }));
  });

  it('removes a rejected file, and only a rejected one', async () => {
    const tenant = 'remove-rejected';
    const rejected = aFile(tenant, 1);
    await store.files.createPending(rejected);
    await store.files.reject(rejected, 'MIME_TYPE_NOT_ALLOWED', at(2));
    const active = await activeFile(tenant, 3);

    expect(await store.files.removeRejected(active)).toBe(false);
    expect(await store.files.removeRejected(rejected)).toBe(true);
    expect(await store.files.removeRejected(rejected)).toBe(false);
    expect(await store.files.get(tenant, rejected.id)).toBeNull();
    expect(await store.quota.get(tenant)).toEqual({
      limitBytes: null,
      usedBytes: 100,
      reservedBytes: 0,
      fileCount: 1,
    });
  });
});

describe('the outbox: a transition and its event commit together', () => {
  const anEvent = (type: string, file: FileRecord, n: number): AuditEvent => ({
    id: ulidLike(9000 + n),
    type,
    at: at(n),
    actor: 'alice',
    fileId: file.id,
    providerId: file.providerId,
    status: 'ok',
    latencyMs: null,
    details: { n },
  });
  const told = async (file: FileRecord) =>
    (await store.events.list(file.tenantId, { fileId: file.id }, { limit: 50 })).items
      .map((e) => e.type)
      .reverse();

  it("writes each transition's event with it, and tells the hook once it is committed", async () => {
    // Prepare: a store on the same table whose hook hears of every committed event.
    const heard: string[] = [];
    const hooked = createDynamoMetadataStore({
      client: fixture.doc,
      tableName: fixture.tableName,
      onEventWritten: (tenantId, event) => heard.push(`${tenantId} ${event.type}`),
    });
    const tenant = 'outbox';
    const file = aFile(tenant, 1, { size: 10 });
    const rejected = aFile(tenant, 2, { size: 10 });

    // Act: a whole life, each step with its event.
    await store.files.createPending(file, anEvent('upload.initiated', file, 1));
    await store.files.createPending(rejected, anEvent('upload.initiated', rejected, 2));
    const changes = { mimeType: file.mimeType, sha256: null, validatedObject: ANY_OBJECT, at: at(3) };
    expect(await hooked.files.activate(file, changes, anEvent('upload.completed', file, 3))).toBe(true);
    const renamed = await hooked.files.update(
      { ...file, status: 'active' },
      { originalName: 'renamed.pdf', at: at(4) },
      ['active'],
      anEvent('file.updated', file, 4),
    );
    expect(
      await hooked.files.softDelete({ ...file, status: 'active' }, at(5), anEvent('file.deleted', file, 5)),
    ).toBe(true);
    expect(
      await hooked.files.restore({ ...file, status: 'deleted' }, at(6), anEvent('file.restored', file, 6)),
    ).toBe(true);
    expect(
      await hooked.files.reject(
        rejected,
        'MIME_TYPE_MISMATCH',
        at(7),
        undefined,
        anEvent('upload.rejected', rejected, 7),
      ),
    ).toBe(true);
    expect(
      await hooked.files.removeRejected(
        { ...rejected, status: 'rejected' },
        anEvent('file.deleted', rejected, 8),
      ),
    ).toBe(true);

    // Assess
    expect(renamed).toMatchObject({ id: file.id, originalName: 'renamed.pdf', updatedAt: at(4) });
    expect(await store.files.get(tenant, file.id)).toMatchObject({
      originalName: 'renamed.pdf',
      status: 'active',
    });
    expect(await told(file)).toEqual([
      'upload.initiated',
      'upload.completed',
      'file.updated',
      'file.deleted',
      'file.restored',
    ]);
    expect(await told(rejected)).toEqual(['upload.initiated', 'upload.rejected', 'file.deleted']);
    expect(heard).toEqual([
      `${tenant} upload.completed`,
      `${tenant} file.updated`,
      `${tenant} file.deleted`,
      `${tenant} file.restored`,
      `${tenant} upload.rejected`,
      `${tenant} file.deleted`,
    ]);
  });

  it('writes no event for a transition that does not apply, nor for a refused creation', async () => {
    // Prepare
    const tenant = 'outbox-refused';
    await store.quota.setLimit(tenant, 100);
    const file = await activeFile(tenant, 1, { size: 10 });
    const tooBig = aFile(tenant, 2, { size: 500 });

    // Act: each of these fails its condition.
    const outcomes = [
      await store.files.activate(
        file,
        { mimeType: file.mimeType, sha256: null, validatedObject: ANY_OBJECT, at: at(3) },
        anEvent('upload.completed', file, 3),
      ),
      await store.files.restore(file, at(4), anEvent('file.restored', file, 4)),
      await store.files.abandon(file, anEvent('upload.abandoned', file, 5)),
      await store.files.purge(file, anEvent('file.purged', file, 6)),
      await store.files.update(
        { ...file, status: 'active' },
        { originalName: 'x.pdf', at: at(7) },
        ['pending'],
        anEvent('file.updated', file, 7),
      ),
    ];
    const refused = await store.files
      .createPending(tooBig, anEvent('upload.initiated', tooBig, 8))
      .catch((error: unknown) => error);

    // Assess: nothing applied and nothing told; the file is as it was.
    expect(outcomes).toEqual([false, false, false, false, null]);
    expect(refused).toBeInstanceOf(QuotaExceededError);
    expect(await told(file)).toEqual([]);
    expect(await told(tooBig)).toEqual([]);
    expect(await store.files.get(tenant, tooBig.id)).toBeNull();
    expect(await store.files.get(tenant, file.id)).toMatchObject({
      status: 'active',
      originalName: file.originalName,
    });
  });

  it('purges and abandons with their event, also when the bucket is already gone', async () => {
    // Prepare: a pending and a deleted file whose bucket item was removed meanwhile.
    const tenant = 'outbox-gone';
    const pending = aFile(tenant, 1, { size: 10, bucketId: 'gone' });
    await store.files.createPending(pending);
    const deleted = await activeFile(tenant, 2, { size: 10, bucketId: 'gone' });
    expect(await store.files.softDelete(deleted, at(4))).toBe(true);
    await fixture.doc.send(
      new DeleteCommand({
        TableName: fixture.tableName,
        Key: { PK: tableKeys.tenantPk(tenant), SK: tableKeys.bucketSk('gone') },
      }),
    );

    // Act
    const abandoned = await store.files.abandon(pending, anEvent('upload.abandoned', pending, 5));
    const purged = await store.files.purge(
      { ...deleted, status: 'deleted' },
      anEvent('file.purged', deleted, 6),
    );

    // Assess
    expect([abandoned, purged]).toEqual([true, true]);
    expect(await told(pending)).toEqual(['upload.abandoned']);
    expect(await told(deleted)).toEqual(['file.purged']);
  });
});

describe('listing', () => {
  const tenant = 'listing';
  const ids: string[] = [];

  beforeAll(async () => {
    // 12 files in two buckets, created at increasing times; some images, one rejected, one deleted.
    for (let n = 1; n <= 12; n++) {
      const image = n % 3 === 0;
      const file = aFile(tenant, n, {
        bucketId: n % 2 === 0 ? 'even' : 'odd',
        mimeType: image ? (n === 6 ? 'image/jpeg' : 'image/png') : 'application/pdf',
      });
      await store.files.createPending(file);
      if (n === 5) await store.files.reject(file, 'CHECKSUM_MISMATCH', at(n + 1));
      else if (n !== 7)
        await store.files.activate(file, {
          mimeType: file.mimeType,
          sha256: null,
          validatedObject: ANY_OBJECT,
          at: at(n + 1),
        });
      if (n === 4) await store.files.softDelete({ ...file, status: 'active' }, at(50));
      ids.push(file.id);
    }
  });

  it('lists newest first across the tenant and per bucket', async () => {
    const all = await store.files.list({ tenantId: tenant, partition: 'live' }, { limit: 100 });
    expect(all.items.map((f) => f.id)).toEqual([12, 11, 10, 9, 8, 7, 6, 5, 3, 2, 1].map(ulidLike));
    expect(all.nextCursor).toBeNull();

    const even = await store.files.list(
      { tenantId: tenant, bucketId: 'even', partition: 'live' },
      { limit: 100 },
    );
    expect(even.items.map((f) => f.id)).toEqual([12, 10, 8, 6, 2].map(ulidLike));
  });

  it('pages through every file exactly once whatever the page size', async () => {
    const expected = [12, 11, 10, 9, 8, 7, 6, 5, 3, 2, 1].map(ulidLike);
    for (let limit = 1; limit <= 12; limit++) {
      const pages = await listAll({ tenantId: tenant, partition: 'live' }, limit);
      expect(pages.flat().map((f) => f.id)).toEqual(expected);
      // The cursor is null exactly at the end: no empty trailing page.
      expect(pages.length).toBe(Math.ceil(expected.length / limit));
    }
  });

  it('filters by status and by MIME type, and the pages stay exact', async () => {
    const query = { tenantId: tenant, partition: 'live' } as const;
    const pending = await store.files.list({ ...query, status: 'pending' }, { limit: 10 });
    expect(pending.items.map((f) => f.id)).toEqual([ulidLike(7)]);
    const rejected = await store.files.list({ ...query, status: 'rejected' }, { limit: 10 });
    expect(rejected.items.map((f) => f.id)).toEqual([ulidLike(5)]);

    // Images are sparse among the files and the last match is followed by non-matching ones.
    const imagesByPage = await listAll({ ...query, mimeType: 'image/*' }, 1);
    expect(imagesByPage.map((page) => page.map((f) => f.id))).toEqual([
      [ulidLike(12)],
      [ulidLike(9)],
      [ulidLike(6)],
      [ulidLike(3)],
    ]);
    const jpeg = await store.files.list({ ...query, mimeType: 'image/jpeg' }, { limit: 1 });
    expect(jpeg).toEqual({ items: [expect.objectContaining({ id: ulidLike(6) })], nextCursor: null });
    const activeImagesInEven = await store.files.list(
      { ...query, bucketId: 'even', status: 'active', mimeType: 'image/*' },
      { limit: 5 },
    );
    expect(activeImagesInEven.items.map((f) => f.id)).toEqual([ulidLike(12), ulidLike(6)]);
  });

  it('fills a filtered page even when hundreds of non-matching files sit between the matches', async () => {
    // Prepare: 230 files, only two of them images, far apart and far from the newest end
    const sparse = 'listing-sparse';
    for (let n = 1; n <= 230; n++) {
      const image = n === 5 || n === 120;
      await store.files.createPending(
        aFile(sparse, n, { mimeType: image ? 'image/webp' : 'application/pdf' }),
      );
    }
    const query = { tenantId: sparse, partition: 'live', mimeType: 'image/*' } as const;

    // Act
    const first = await store.files.list(query, { limit: 1 });
    const second = await store.files.list(query, { limit: 1, cursor: first.nextCursor ?? undefined });

    // Assess
    expect(first.items.map((f) => f.id)).toEqual([ulidLike(120)]);
    expect(first.nextCursor).not.toBeNull();
    expect(second).toEqual({ items: [expect.objectContaining({ id: ulidLike(5) })], nextCursor: null });
    const both = await store.files.list(query, { limit: 2 });
    expect(both.nextCursor).toBeNull();
    expect(both.items).toHaveLength(2);
  });

  it('keeps deleted files in their own partition', async () => {
    const deleted = await store.files.list({ tenantId: tenant, partition: 'deleted' }, { limit: 10 });
    expect(deleted.items.map((f) => [f.id, f.status])).toEqual([[ulidLike(4), 'deleted']]);
  });

  it('refuses a cursor used with other filters, another partition or another tenant, or tampered', async () => {
    const query = { tenantId: tenant, partition: 'live' } as const;
    const { nextCursor } = await store.files.list(query, { limit: 2 });
    if (!nextCursor) throw new Error('expected a cursor');
    const misuse = [
      { ...query, status: 'active' as const },
      { ...query, mimeType: 'image/*' },
      { ...query, bucketId: 'even' },
      { ...query, partition: 'deleted' as const },
      { ...query, tenantId: 'someone-else' },
    ];
    for (const other of misuse) {
      await expect(store.files.list(other, { limit: 2, cursor: nextCursor })).rejects.toBeInstanceOf(
        InvalidCursorError,
      );
    }
    const decoded = Buffer.from(nextCursor, 'base64url').toString('utf8');
    const tampered = Buffer.from(decoded.replace(ulidLike(11), ulidLike(3)), 'utf8').toString('base64url');
    expect(tampered).not.toBe(nextCursor);
    for (const bad of [tampered, 'not a cursor', 'e30', nextCursor.slice(0, -4)]) {
      await expect(store.files.list(query, { limit: 2, cursor: bad })).rejects.toBeInstanceOf(
        InvalidCursorError,
      );
    }
    // The genuine one still works.
    expect((await store.files.list(query, { limit: 2, cursor: nextCursor })).items.map((f) => f.id)).toEqual([
      ulidLike(10),
      ulidLike(9),
    ]);
  });

  it('gets many in the order asked, skipping unknown ids', async () => {
    const files = await store.files.getMany(tenant, [
      ulidLike(3),
      'nope',
      ulidLike(1),
      ulidLike(12),
      ulidLike(3),
    ]);
    expect(files.map((f) => f.id)).toEqual([ulidLike(3), ulidLike(1), ulidLike(12), ulidLike(3)]);
    expect(await store.files.getMany(tenant, [])).toEqual([]);
  });

  it('fetches more than one batch of 100', async () => {
    const many = Array.from({ length: 130 }, (_, i) => ids[i % ids.length] as string);
    expect(await store.files.getMany(tenant, many)).toHaveLength(130);
  });
});

describe('bucketHasFiles', () => {
  it('counts pending, active and deleted files but not rejected ones', async () => {
    const tenant = 'has-files';
    const only = (bucketId: string) => store.files.bucketHasFiles(tenant, bucketId);
    expect(await only('empty')).toBe(false);

    const rejected = aFile(tenant, 1, { bucketId: 'rejects' });
    await store.files.createPending(rejected);
    await store.files.reject(rejected, 'FILE_TOO_LARGE', at(2));
    expect(await only('rejects')).toBe(false);

    await store.files.createPending(aFile(tenant, 3, { bucketId: 'pending' }));
    expect(await only('pending')).toBe(true);

    const gone = await activeFile(tenant, 4, { bucketId: 'deleted' });
    await store.files.softDelete(gone, at(5));
    expect(await only('deleted')).toBe(true);
  });
});

describe('tenant isolation', () => {
  it('never lets the same ids in two tenants see or change each other', async () => {
    // Prepare: the same file id, bucket id and entity in two tenants
    const mine = aFile('iso-a', 1, { size: 10, references: [{ entityType: 'ticket', entityId: 'T-1' }] });
    const theirs = aFile('iso-b', 1, { size: 20, references: [{ entityType: 'ticket', entityId: 'T-1' }] });
    await store.files.createPending(mine);
    await store.files.createPending(theirs);

    // Act
    await store.files.activate(mine, {
      mimeType: 'application/pdf',
      sha256: null,
      validatedObject: ANY_OBJECT,
      at: at(2),
    });

    // Assess
    expect((await store.files.get('iso-b', theirs.id))?.status).toBe('pending');
    expect(await store.quota.get('iso-a')).toMatchObject({ usedBytes: 10, reservedBytes: 0 });
    expect(await store.quota.get('iso-b')).toMatchObject({ usedBytes: 0, reservedBytes: 20 });
    const listA = await store.files.list(
      { tenantId: 'iso-a', bucketId: 'bkt1', partition: 'live' },
      { limit: 10 },
    );
    expect(listA.items.map((f) => [f.tenantId, f.size])).toEqual([['iso-a', 10]]);
    expect(await store.files.getMany('iso-a', [mine.id])).toEqual([
      expect.objectContaining({ tenantId: 'iso-a' }),
    ]);
    await store.references.remove('iso-b', theirs.id, { entityType: 'ticket', entityId: 'T-1' });
    expect((await store.files.get('iso-a', mine.id))?.references).toEqual([
      { entityType: 'ticket', entityId: 'T-1' },
    ]);
    const ticketA = await store.references.listFileIds(
      'iso-a',
      { entityType: 'ticket', entityId: 'T-1' },
      { limit: 10 },
    );
    expect(ticketA).toEqual([mine.id]);
  });
});

describe('listSweepable', () => {
  let sweepFixture: TestStore;
  let sweep: MetadataStore;

  beforeAll(async () => {
    // Its own table: the sweep scans across tenants, so other tests' files would show up.
    sweepFixture = await createTestStore('sweep');
    sweep = sweepFixture.store;
    for (const [tenant, n, expires] of [
      ['s1', 1, 100],
      ['s2', 2, 50],
      ['s1', 3, 300],
      ['s2', 4, 20],
    ] as const) {
      await sweep.files.createPending(aFile(tenant, n, { uploadExpiresAt: at(expires) }));
    }
    // An active file (never sweepable), and two deleted ones.
    const active = aFile('s1', 5);
    await sweep.files.createPending(active);
    await sweep.files.activate(active, {
      mimeType: 'application/pdf',
      sha256: null,
      validatedObject: ANY_OBJECT,
      at: at(6),
    });
    for (const [tenant, n, deletedAt] of [
      ['s1', 7, 400],
      ['s2', 8, 200],
    ] as const) {
      const file = aFile(tenant, n);
      await sweep.files.createPending(file);
      await sweep.files.activate(file, {
        mimeType: 'application/pdf',
        sha256: null,
        validatedObject: ANY_OBJECT,
        at: at(n),
      });
      await sweep.files.softDelete(file, at(deletedAt));
    }
  });
  afterAll(() => sweepFixture.close());

  it('finds expired pending uploads across tenants, oldest first, and nothing else', async () => {
    const page = await sweep.files.listSweepable('pending', at(150), { limit: 10 });
    expect(page.items.map((f) => [f.tenantId, f.id])).toEqual([
      ['s2', ulidLike(4)],
      ['s2', ulidLike(2)],
      ['s1', ulidLike(1)],
    ]);
    expect(page.nextCursor).toBeNull();
    // Strictly before: an upload expiring exactly at `before` waits.
    expect((await sweep.files.listSweepable('pending', at(20), { limit: 10 })).items).toEqual([]);
  });

  it('finds deleted files by deletion time, and forgets them once restored', async () => {
    const before = await sweep.files.listSweepable('deleted', at(500), { limit: 10 });
    expect(before.items.map((f) => f.id)).toEqual([ulidLike(8), ulidLike(7)]);
    const restored = before.items[1] as FileRecord;
    await sweep.files.restore(restored, at(600));
    const after = await sweep.files.listSweepable('deleted', at(500), { limit: 10 });
    expect(after.items.map((f) => f.id)).toEqual([ulidLike(8)]);
  });

  it('pages through all of them exactly once', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await sweep.files.listSweepable('pending', at(1000), { limit: 1, cursor });
      seen.push(...page.items.map((f) => f.id));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(seen.sort()).toEqual([1, 2, 3, 4].map(ulidLike));
    const { nextCursor } = await sweep.files.listSweepable('pending', at(1000), { limit: 1 });
    await expect(
      sweep.files.listSweepable('deleted', at(1000), { limit: 1, cursor: nextCursor ?? undefined }),
    ).rejects.toBeInstanceOf(InvalidCursorError);
  });
});
