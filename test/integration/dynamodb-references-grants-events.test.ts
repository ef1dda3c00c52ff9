import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tableKeys } from '../../shared/domain/keys.js';
import type { AuditEvent, EntityRef, Grant } from '../../shared/domain/model.js';
import { InvalidCursorError, type MetadataStore } from '../../shared/ports/repositories.js';
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
  fixture = await createTestStore('refs');
  store = fixture.store;
});
afterAll(() => fixture.close());

const ticket = (id: string): EntityRef => ({ entityType: 'ticket', entityId: id });

describe('references', () => {
  it('adds and removes idempotently, visible on the file', async () => {
    // Prepare
    const tenant = 'refs';
    const file = aFile(tenant, 1);
    await store.files.createPending(file);

    // Act + Assess
    expect(await store.references.add(tenant, file.id, ticket('T-2'), at(2))).toBe(true);
    expect(await store.references.add(tenant, file.id, ticket('T-1'), at(3))).toBe(true);
    expect(await store.references.add(tenant, file.id, ticket('T-1'), at(4))).toBe(true);
    expect((await store.files.get(tenant, file.id))?.references).toEqual([ticket('T-1'), ticket('T-2')]);

    expect(await store.references.remove(tenant, file.id, ticket('T-1'))).toBe(true);
    expect(await store.references.remove(tenant, file.id, ticket('T-1'))).toBe(true);
    expect((await store.files.get(tenant, file.id))?.references).toEqual([ticket('T-2')]);
    expect(await store.references.listFileIds(tenant, ticket('T-1'), { limit: 10 })).toEqual([]);

    expect(await store.references.remove(tenant, file.id, ticket('T-2'))).toBe(true);
    expect((await store.files.get(tenant, file.id))?.references).toEqual([]);
  });

  it('refuses references on missing, rejected and deleted files; remove on a missing file is false', async () => {
    const tenant = 'refs-refused';
    const rejected = aFile(tenant, 1);
    await store.files.createPending(rejected);
    await store.files.reject(rejected, 'FILE_TOO_LARGE', at(2));
    const deleted = aFile(tenant, 3);
    await store.files.createPending(deleted);
    await store.files.activate(deleted, {
      mimeType: 'application/pdf',
      sha256: null,
      validatedObject: ANY_OBJECT,
      at: at(4),
    });
    await store.files.softDelete({ ...deleted, status: 'active' }, at(5));

    for (const fileId of [ulidLike(99), rejected.id, deleted.id]) {
      expect(await store.references.add(tenant, fileId, ticket('T-1'), at(6))).toBe(false);
    }
    expect(await store.references.listFileIds(tenant, ticket('T-1'), { limit: 10 })).toEqual([]);
    expect(await store.references.remove(tenant, ulidLike(99), ticket('T-1'))).toBe(false);
    // A missing file never comes into being through a reference.
    expect(await store.files.get(tenant, ulidLike(99))).toBeNull();
  });

  it('lists the files of an entity newest first, page by page', async () => {
    // Prepare: files created out of id order, all referencing one ticket
    const tenant = 'entity-files';
    for (const n of [3, 1, 5, 2, 4]) {
      await store.files.createPending(aFile(tenant, n));
      await store.references.add(tenant, ulidLike(n), ticket('T-9'), at(10 + n));
    }
    await store.files.createPending(aFile(tenant, 6, { references: [ticket('T-other')] }));

    // Act
    const ids: string[] = [];
    let afterFileId: string | undefined;
    let pages = 0;
    for (;;) {
      const page = await store.references.listFileIds(tenant, ticket('T-9'), { limit: 2, afterFileId });
      ids.push(...page);
      pages++;
      if (page.length < 2) break;
      afterFileId = page.at(-1);
    }

    // Assess: the last, short page says nothing more follows
    expect(ids).toEqual([5, 4, 3, 2, 1].map(ulidLike));
    expect(pages).toBe(3);
  });

  it('removes every reference of a purged file, even when the file item is gone', async () => {
    // Prepare
    const tenant = 'remove-all';
    const refs = [ticket('T-1'), ticket('T-2'), { entityType: 'project', entityId: 'P-1' }];
    const file = aFile(tenant, 1, { references: refs });
    await store.files.createPending(file);
    await store.references.add(tenant, file.id, ticket('T-3'), at(2));
    await store.files.abandon(file);

    // Act: the caller only knows the references it read before the file went
    await store.references.removeAllForFile(tenant, file.id, refs);

    // Assess
    for (const ref of [...refs, ticket('T-3')]) {
      expect(await store.references.listFileIds(tenant, ref, { limit: 10 })).toEqual([]);
    }
  });
});

describe('grants', () => {
  const grant = (userId: string, entityId: string, access: Grant['access'], n = 0): Grant => ({
    entityType: 'ticket',
    entityId,
    userId,
    access,
    createdAt: at(n),
    updatedAt: at(n),
  });

  it('puts, replaces (keeping the first createdAt), lists and deletes grants', async () => {
    const tenant = 'grants';
    await store.grants.put(tenant, grant('bob', 'T-1', 'read', 1));
    await store.grants.put(tenant, grant('alice@example.com', 'T-1', 'write', 2));
    await store.grants.put(tenant, grant('bob', 'T-1', 'write', 3));

    const listed = await store.grants.listForEntity(tenant, ticket('T-1'), { limit: 10 });
    expect(listed.items).toEqual([
      grant('alice@example.com', 'T-1', 'write', 2),
      { ...grant('bob', 'T-1', 'write', 3), createdAt: at(1) },
    ]);

    expect(await store.grants.delete(tenant, ticket('T-1'), 'bob')).toBe(true);
    expect(await store.grants.delete(tenant, ticket('T-1'), 'bob')).toBe(false);
    expect((await store.grants.listForEntity(tenant, ticket('T-1'), { limit: 10 })).items).toHaveLength(1);
  });

  it("finds a user's grants on the entities a file references", async () => {
    const tenant = 'find-grants';
    await store.grants.put(tenant, grant('carol', 'T-1', 'read'));
    await store.grants.put(tenant, grant('carol', 'T-3', 'write'));
    await store.grants.put(tenant, grant('dave', 'T-2', 'write'));
    // User ids may hold characters that keys must not (API.md section 1).
    await store.grants.put(tenant, grant('odd user/#1', 'T-2', 'read'));

    const found = await store.grants.findForUser(tenant, 'carol', [
      ticket('T-1'),
      ticket('T-2'),
      ticket('T-3'),
      ticket('T-1'),
    ]);
    expect(found.map((g) => [g.entityId, g.access]).sort()).toEqual([
      ['T-1', 'read'],
      ['T-3', 'write'],
    ]);
    expect(await store.grants.findForUser(tenant, 'carol', [])).toEqual([]);
    expect(await store.grants.findForUser(tenant, 'odd user/#1', [ticket('T-2')])).toEqual([
      grant('odd user/#1', 'T-2', 'read'),
    ]);
    expect(await store.grants.findForUser('other-tenant', 'carol', [ticket('T-1')])).toEqual([]);
  });

  it('deletes all grants of an entity and says how many', async () => {
    const tenant = 'delete-grants';
    for (let i = 0; i < 30; i++) await store.grants.put(tenant, grant(`user${i}`, 'T-1', 'read'));
    await store.grants.put(tenant, grant('user0', 'T-2', 'read'));

    expect(await store.grants.deleteAllForEntity(tenant, ticket('T-1'))).toBe(30);
    expect(await store.grants.deleteAllForEntity(tenant, ticket('T-1'))).toBe(0);
    expect((await store.grants.listForEntity(tenant, ticket('T-2'), { limit: 10 })).items).toHaveLength(1);
  });
});

describe('events', () => {
  const tenant = 'events';
  const event = (n: number, type: string, fileId: string | null = null): AuditEvent => ({
    id: ulidLike(n),
    type,
    at: at(n),
    actor: n % 2 === 0 ? 'system' : 'alice',
    fileId,
    providerId: null,
    status: type === 'upload.rejected' ? 'error' : 'ok',
    latencyMs: n % 2 === 0 ? 12 : null,
    details: { n, nested: { ok: true }, dropped: undefined },
  });

  beforeAll(async () => {
    const types = ['upload.initiated', 'upload.completed', 'file.downloaded', 'upload.rejected'];
    for (let n = 1; n <= 20; n++) {
      const type = types[n % types.length] as string;
      await store.events.record(tenant, event(n, type, n % 5 === 0 ? ulidLike(1000) : null));
    }
    await store.events.record('events-other', event(21, 'upload.completed', ulidLike(1000)));
  });

  it('lists newest first with every field and no table keys', async () => {
    const page = await store.events.list(tenant, {}, { limit: 3 });
    expect(page.items.map((e) => e.id)).toEqual([20, 19, 18].map(ulidLike));
    expect(page.items[0]).toEqual({
      ...event(20, 'upload.initiated', ulidLike(1000)),
      details: { n: 20, nested: { ok: true } },
    });
    expect(page.nextCursor).not.toBeNull();
  });

  it('filters by type with exact pages', async () => {
    const ids: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.events.list(tenant, { type: 'upload.rejected' }, { limit: 2, cursor });
      expect(page.items.every((e) => e.type === 'upload.rejected' && e.status === 'error')).toBe(true);
      ids.push(...page.items.map((e) => e.id));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(ids).toEqual([19, 15, 11, 7, 3].map(ulidLike));
  });

  it('lists the events of one file, also filtered by type, within the tenant', async () => {
    const byFile = await store.events.list(tenant, { fileId: ulidLike(1000) }, { limit: 10 });
    expect(byFile.items.map((e) => e.id)).toEqual([20, 15, 10, 5].map(ulidLike));
    const rejected = await store.events.list(
      tenant,
      { fileId: ulidLike(1000), type: 'upload.rejected' },
      { limit: 10 },
    );
    expect(rejected.items.map((e) => e.id)).toEqual([ulidLike(15)]);
  });

  it('refuses a cursor of another filter', async () => {
    const { nextCursor } = await store.events.list(tenant, {}, { limit: 1 });
    await expect(
      store.events.list(tenant, { type: 'upload.completed' }, { limit: 1, cursor: nextCursor ?? undefined }),
    ).rejects.toBeInstanceOf(InvalidCursorError);
  });

  it('expires events 400 days after they happened', async () => {
    const { Item } = await fixture.doc.send(
      new GetCommand({
        TableName: fixture.tableName,
        Key: { PK: tableKeys.eventPk(tenant), SK: ulidLike(1) },
      }),
    );
    expect(Item?.ttl).toBe(Date.parse(at(1)) / 1000 + 400 * 86_400);
  });
});
