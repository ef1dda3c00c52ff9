import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AlreadyExistsError,
  InUseError,
  InvalidCursorError,
  type MetadataStore,
  NameTakenError,
  NotFoundError,
} from '../../shared/ports/repositories.js';
import { aBucket, aProvider, at, createTestStore, type TestStore } from './dynamodb-store-fixture.js';

let fixture: TestStore;
let store: MetadataStore;

beforeAll(async () => {
  fixture = await createTestStore('buckets');
  store = fixture.store;
});
afterAll(() => fixture.close());

describe('providers', () => {
  it('stores a provider and answers it back without table keys', async () => {
    // Prepare
    const provider = aProvider({ id: 'p-roundtrip', config: { bucket: 'b', region: 'eu-west-1' } });

    // Act
    await store.providers.create('acme', provider);

    // Assess
    expect(await store.providers.get('acme', 'p-roundtrip')).toEqual(provider);
    expect(await store.providers.get('acme', 'missing')).toBeNull();
  });

  it('refuses a second provider with the same id', async () => {
    await store.providers.create('acme', aProvider({ id: 'p-dup' }));
    await expect(
      store.providers.create('acme', aProvider({ id: 'p-dup', name: 'Other' })),
    ).rejects.toBeInstanceOf(AlreadyExistsError);
    expect((await store.providers.get('acme', 'p-dup'))?.name).toBe('Main Storage');
  });

  it('lists providers page by page', async () => {
    // Prepare
    const tenant = 'list-providers';
    for (const id of ['a', 'b', 'c']) await store.providers.create(tenant, aProvider({ id }));

    // Act
    const first = await store.providers.list(tenant, { limit: 2 });
    const second = await store.providers.list(tenant, { limit: 2, cursor: first.nextCursor ?? undefined });

    // Assess
    expect(first.items.map((p) => p.id)).toEqual(['a', 'b']);
    expect(second).toEqual({ items: [expect.objectContaining({ id: 'c' })], nextCursor: null });
  });

  it('cannot delete a provider while a bucket uses it, and can once the bucket is gone', async () => {
    // Prepare
    const tenant = 'provider-in-use';
    await store.providers.create(tenant, aProvider({ id: 'mine' }));
    const one = aBucket({ id: 'b1', name: 'One', providerId: 'mine' });
    const two = aBucket({ id: 'b2', name: 'Two', providerId: 'mine' });
    await store.buckets.create(tenant, one);
    await store.buckets.create(tenant, two);

    // Act + Assess
    await expect(store.providers.delete(tenant, 'mine')).rejects.toBeInstanceOf(InUseError);
    expect(await store.buckets.delete(tenant, one)).toBe(true);
    await expect(store.providers.delete(tenant, 'mine')).rejects.toBeInstanceOf(InUseError);
    expect(await store.buckets.delete(tenant, two)).toBe(true);
    expect(await store.providers.delete(tenant, 'mine')).toBe(true);
    expect(await store.providers.get(tenant, 'mine')).toBeNull();
    expect(await store.providers.delete(tenant, 'mine')).toBe(false);
  });
});

describe('buckets', () => {
  it('claims names case-insensitively within a tenant', async () => {
    // Prepare
    const tenant = 'names';
    await store.buckets.create(tenant, aBucket({ id: 'b1', name: 'Customer Files' }));

    // Act + Assess
    await expect(
      store.buckets.create(tenant, aBucket({ id: 'b2', name: 'CUSTOMER files' })),
    ).rejects.toBeInstanceOf(NameTakenError);
    expect(await store.buckets.get(tenant, 'b2')).toBeNull();
    // Another tenant may use the same name (and the same id).
    await store.buckets.create('names-other', aBucket({ id: 'b1', name: 'customer files' }));
  });

  it('treats composed and decomposed accents as the same name', async () => {
    const tenant = 'nfc';
    await store.buckets.create(tenant, aBucket({ id: 'b1', name: 'Caf\u00e9' }));
    await expect(
      store.buckets.create(tenant, aBucket({ id: 'b2', name: 'CAFE\u0301' })),
    ).rejects.toBeInstanceOf(NameTakenError);
  });

  it('refuses a bucket on an unknown provider and leaves nothing behind', async () => {
    // Prepare
    const tenant = 'unknown-provider';
    const bucket = aBucket({ id: 'b1', name: 'Orphan', providerId: 'nope' });

    // Act
    await expect(store.buckets.create(tenant, bucket)).rejects.toBeInstanceOf(NotFoundError);

    // Assess: the name is still free and no provider item appeared
    expect(await store.buckets.get(tenant, 'b1')).toBeNull();
    expect(await store.providers.get(tenant, 'nope')).toBeNull();
    await store.buckets.create(tenant, aBucket({ id: 'b1', name: 'Orphan' }));
  });

  it('refuses a second bucket with the same id', async () => {
    const tenant = 'bucket-id';
    await store.buckets.create(tenant, aBucket({ id: 'b1', name: 'First' }));
    await expect(store.buckets.create(tenant, aBucket({ id: 'b1', name: 'Second' }))).rejects.toBeInstanceOf(
      AlreadyExistsError,
    );
    // The failed attempt did not keep the second name.
    await store.buckets.create(tenant, aBucket({ id: 'b2', name: 'Second' }));
  });

  it('renames: the new name is taken, the old one is free again', async () => {
    // Prepare
    const tenant = 'rename';
    const bucket = aBucket({ id: 'b1', name: 'Invoices' });
    await store.buckets.create(tenant, bucket);
    const renamed = { ...bucket, name: 'Bills', maxFileSize: 5, updatedAt: at(10) };

    // Act
    await store.buckets.update(tenant, bucket, renamed);

    // Assess
    expect(await store.buckets.get(tenant, 'b1')).toEqual(renamed);
    await expect(store.buckets.create(tenant, aBucket({ id: 'b2', name: 'bills' }))).rejects.toBeInstanceOf(
      NameTakenError,
    );
    await store.buckets.create(tenant, aBucket({ id: 'b3', name: 'invoices' }));
  });

  it('refuses a rename onto a taken name and changes nothing', async () => {
    const tenant = 'rename-taken';
    const first = aBucket({ id: 'b1', name: 'First' });
    await store.buckets.create(tenant, first);
    await store.buckets.create(tenant, aBucket({ id: 'b2', name: 'Second' }));

    await expect(
      store.buckets.update(tenant, first, { ...first, name: 'SECOND', retentionDays: 1 }),
    ).rejects.toBeInstanceOf(NameTakenError);
    expect(await store.buckets.get(tenant, 'b1')).toEqual(first);
    // First still holds its own name.
    await expect(store.buckets.create(tenant, aBucket({ id: 'b3', name: 'first' }))).rejects.toBeInstanceOf(
      NameTakenError,
    );
  });

  it('allows a change of case only, and updates without a rename', async () => {
    const tenant = 'recase';
    const bucket = aBucket({ id: 'b1', name: 'photos' });
    await store.buckets.create(tenant, bucket);
    const recased = { ...bucket, name: 'Photos' };
    await store.buckets.update(tenant, bucket, recased);
    const flagged = { ...recased, restricted: true, allowedMimeTypes: null };
    await store.buckets.update(tenant, recased, flagged);
    expect(await store.buckets.get(tenant, 'b1')).toEqual(flagged);
    await expect(store.buckets.create(tenant, aBucket({ id: 'b2', name: 'PHOTOS' }))).rejects.toBeInstanceOf(
      NameTakenError,
    );
  });

  it('update of a missing bucket is NotFoundError', async () => {
    const ghost = aBucket({ id: 'ghost', name: 'Ghost' });
    await expect(store.buckets.update('ghosts', ghost, { ...ghost, name: 'Spirit' })).rejects.toBeInstanceOf(
      NotFoundError,
    );
    await expect(
      store.buckets.update('ghosts', ghost, { ...ghost, retentionDays: 3 }),
    ).rejects.toBeInstanceOf(NotFoundError);
    // The failed rename did not keep the new name.
    await store.buckets.create('ghosts', aBucket({ id: 'b1', name: 'Spirit' }));
  });

  it('delete frees the name and answers false the second time', async () => {
    const tenant = 'delete-bucket';
    const bucket = aBucket({ id: 'b1', name: 'Temp' });
    await store.buckets.create(tenant, bucket);
    expect(await store.buckets.delete(tenant, bucket)).toBe(true);
    expect(await store.buckets.delete(tenant, bucket)).toBe(false);
    expect(await store.buckets.get(tenant, 'b1')).toBeNull();
    await store.buckets.create(tenant, aBucket({ id: 'b2', name: 'TEMP' }));
  });

  it('delete with a stale name still frees the current name', async () => {
    const tenant = 'delete-stale';
    const bucket = aBucket({ id: 'b1', name: 'Old' });
    await store.buckets.create(tenant, bucket);
    await store.buckets.update(tenant, bucket, { ...bucket, name: 'New' });
    expect(await store.buckets.delete(tenant, bucket)).toBe(true);
    await store.buckets.create(tenant, aBucket({ id: 'b2', name: 'New' }));
  });

  it('lists buckets (not the name claims) with paging, and refuses a cursor of another tenant', async () => {
    // Prepare
    const tenant = 'list-buckets';
    for (const id of ['b1', 'b2', 'b3'])
      await store.buckets.create(tenant, aBucket({ id, name: `Bucket ${id}` }));
    await store.buckets.create('list-buckets-2', aBucket({ id: 'b1', name: 'x' }));
    await store.buckets.create('list-buckets-2', aBucket({ id: 'b2', name: 'y' }));

    // Act
    const first = await store.buckets.list(tenant, { limit: 2 });
    const rest = await store.buckets.list(tenant, { limit: 5, cursor: first.nextCursor ?? undefined });

    // Assess
    expect(first.items.map((b) => b.id)).toEqual(['b1', 'b2']);
    expect(rest.items.map((b) => b.id)).toEqual(['b3']);
    expect(rest.nextCursor).toBeNull();
    await expect(
      store.buckets.list('list-buckets-2', { limit: 2, cursor: first.nextCursor ?? undefined }),
    ).rejects.toBeInstanceOf(InvalidCursorError);
  });
});

describe('quota', () => {
  it('is empty and unlimited before anything happened', async () => {
    expect(await store.quota.get('fresh')).toEqual({
      limitBytes: null,
      usedBytes: 0,
      reservedBytes: 0,
      fileCount: 0,
    });
  });

  it('sets and clears the limit', async () => {
    expect(await store.quota.setLimit('limited', 1000)).toEqual({
      limitBytes: 1000,
      usedBytes: 0,
      reservedBytes: 0,
      fileCount: 0,
    });
    expect((await store.quota.get('limited')).limitBytes).toBe(1000);
    expect((await store.quota.setLimit('limited', null)).limitBytes).toBeNull();
    expect((await store.quota.get('limited')).limitBytes).toBeNull();
  });
});
