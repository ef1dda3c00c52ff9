import { beforeAll, describe, expect, it } from 'vitest';
import { type Client, client, newTenant, sendBytes } from '../support/api.js';
import { CSV, PNG_1x1 } from '../support/samples.js';

let admin: Client;
let member: Client;
let carol: Client; // another member
let viewer: Client;
let stranger: Client; // another tenant
let bucket: any;

async function activeFile(
  api: Client,
  bucketId: string,
  name: string,
  refs: any[] = [],
  bytes: Buffer = CSV,
  type = 'text/csv',
) {
  const init = await api.post(`/v1/buckets/${bucketId}/uploads`, {
    filename: name,
    contentType: type,
    size: bytes.length,
    references: refs,
  });
  expect(init.status, JSON.stringify(init.body)).toBe(201);
  await sendBytes(init.body.upload, bytes);
  const done = await api.post(`/v1/files/${init.body.file.id}/complete`, {});
  expect(done.body.status).toBe('active');
  return done.body;
}

beforeAll(async () => {
  const tenant = newTenant('files');
  admin = await client(tenant, 'alice', ['admin']);
  member = await client(tenant, 'bob', ['member']);
  carol = await client(tenant, 'carol', ['member']);
  viewer = await client(tenant, 'vic', ['viewer']);
  stranger = await client(newTenant('stranger'), 'mallory', ['admin']);
  bucket = (await admin.post('/v1/buckets', { name: 'Files', retentionDays: 30 })).body;
});

describe('listing', () => {
  it('lists newest first with exact cursor paging and filters', async () => {
    const own = (await admin.post('/v1/buckets', { name: 'Listing' })).body;
    const made = [];
    for (let i = 0; i < 5; i++) made.push(await activeFile(member, own.id, `f${i}.csv`));
    made.push(await activeFile(member, own.id, 'p.png', [], PNG_1x1, 'image/png'));
    const ids = made.map((f) => f.id).reverse();

    const all = await member.get(`/v1/files?bucketId=${own.id}`);
    expect(all.body.items.map((f: any) => f.id)).toEqual(ids);
    expect(all.body.nextCursor).toBeNull();

    for (const limit of [1, 2, 4, 6]) {
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const q: string = `/v1/files?bucketId=${own.id}&limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
        const page: any = await member.get(q);
        expect(page.status).toBe(200);
        expect(page.body.items.length).toBeLessThanOrEqual(limit);
        seen.push(...page.body.items.map((f: any) => f.id));
        cursor = page.body.nextCursor;
      } while (cursor);
      expect(seen, `limit ${limit}`).toEqual(ids);
    }

    const images = await member.get(`/v1/files?bucketId=${own.id}&mimeType=image/*`);
    expect(images.body.items.map((f: any) => f.originalName)).toEqual(['p.png']);
    const csv = await member.get(`/v1/files?bucketId=${own.id}&mimeType=text/csv&limit=5`);
    expect(csv.body.items).toHaveLength(5);
    expect(csv.body.nextCursor).toBeNull();

    const page1 = await member.get(`/v1/files?bucketId=${own.id}&limit=2`);
    const foreign = await member.get(
      `/v1/files?bucketId=${bucket.id}&limit=2&cursor=${encodeURIComponent(page1.body.nextCursor)}`,
    );
    expect(foreign.status).toBe(400);

    expect((await member.get('/v1/files?bucketId=NOSUCHBUCKET')).body).toEqual({
      items: [],
      nextCursor: null,
    });
    expect((await stranger.get(`/v1/files?bucketId=${own.id}`)).body.items).toEqual([]);
  });
});

describe('delete and restore', () => {
  it('soft-deletes, hides, restores', async () => {
    const file = await activeFile(member, bucket.id, 'doomed.csv');
    const usedBefore = (await admin.get('/v1/quota')).body.usedBytes;
    expect((await member.del(`/v1/files/${file.id}`)).status).toBe(204);
    const deleted = await member.get(`/v1/files/${file.id}`);
    expect(deleted.body).toMatchObject({ status: 'deleted' });
    expect(deleted.body.deletedAt).not.toBeNull();
    expect((await member.get(`/v1/files/${file.id}/download`)).status).toBe(404);
    expect(
      (await member.get(`/v1/files?bucketId=${bucket.id}`)).body.items.some((f: any) => f.id === file.id),
    ).toBe(false);
    expect(
      (await member.get(`/v1/files?bucketId=${bucket.id}&status=deleted`)).body.items.map((f: any) => f.id),
    ).toContain(file.id);
    // bytes still count until purge
    expect((await admin.get('/v1/quota')).body.usedBytes).toBe(usedBefore);
    // deleting again changes nothing
    expect((await member.del(`/v1/files/${file.id}`)).status).toBe(204);
    // a bucket with a soft-deleted file cannot be deleted
    expect((await admin.del(`/v1/buckets/${bucket.id}`)).status).toBe(409);

    const restored = await member.post(`/v1/files/${file.id}/restore`);
    expect(restored.status).toBe(200);
    expect(restored.body).toMatchObject({ status: 'active', deletedAt: null });
    expect((await member.post(`/v1/files/${file.id}/restore`)).status).toBe(409);
    expect((await member.get(`/v1/files/${file.id}/download`)).status).toBe(200);
  });

  it('refuses to delete a pending upload', async () => {
    const init = await member.post(`/v1/buckets/${bucket.id}/uploads`, {
      filename: 'p.csv',
      contentType: 'text/csv',
      size: 4,
    });
    expect((await member.del(`/v1/files/${init.body.file.id}`)).status).toBe(409);
  });
});

describe('references, entities and grants', () => {
  it('adds and removes references idempotently and lists an entity’s files', async () => {
    const a = await activeFile(member, bucket.id, 'a.csv', [{ entityType: 'ticket', entityId: 'T-1' }]);
    const b = await activeFile(member, bucket.id, 'b.csv');
    expect((await member.put(`/v1/files/${b.id}/references/ticket/T-1`)).status).toBe(204);
    expect((await member.put(`/v1/files/${b.id}/references/ticket/T-1`)).status).toBe(204);
    expect((await member.put(`/v1/files/${b.id}/references/project/P-9`)).status).toBe(204);
    expect((await member.get(`/v1/files/${b.id}`)).body.references).toEqual([
      { entityType: 'project', entityId: 'P-9' },
      { entityType: 'ticket', entityId: 'T-1' },
    ]);
    const listed = await member.get('/v1/entities/ticket/T-1/files');
    expect(listed.body.items.map((f: any) => f.id)).toEqual([b.id, a.id]);
    const paged = await member.get('/v1/entities/ticket/T-1/files?limit=1');
    expect(paged.body.items.map((f: any) => f.id)).toEqual([b.id]);
    const rest = await member.get(
      `/v1/entities/ticket/T-1/files?limit=1&cursor=${encodeURIComponent(paged.body.nextCursor)}`,
    );
    expect(rest.body).toEqual({ items: [expect.objectContaining({ id: a.id })], nextCursor: null });
    expect((await member.get(`/v1/files?entityType=ticket&entityId=T-1`)).body.items).toHaveLength(2);

    expect((await member.del(`/v1/files/${b.id}/references/ticket/T-1`)).status).toBe(204);
    expect((await member.del(`/v1/files/${b.id}/references/ticket/T-1`)).status).toBe(204);
    expect((await member.get('/v1/entities/ticket/T-1/files')).body.items.map((f: any) => f.id)).toEqual([
      a.id,
    ]);
  });

  it('hides referenced files from other non-admins until a grant says otherwise', async () => {
    const file = await activeFile(member, bucket.id, 'secret.csv', [
      { entityType: 'invoice', entityId: 'I-7' },
    ]);
    expect((await carol.get(`/v1/files/${file.id}`)).status).toBe(404);
    expect((await viewer.get(`/v1/files/${file.id}/download`)).status).toBe(404);
    expect((await carol.get('/v1/entities/invoice/I-7/files')).body.items).toEqual([]);

    expect((await admin.put('/v1/entities/invoice/I-7/grants/carol', { access: 'read' })).status).toBe(204);
    expect((await carol.get(`/v1/files/${file.id}`)).status).toBe(200);
    expect((await carol.del(`/v1/files/${file.id}`)).status).toBe(403);
    expect((await carol.get('/v1/entities/invoice/I-7/files')).body.items).toHaveLength(1);

    await admin.put('/v1/entities/invoice/I-7/grants/carol', { access: 'write' });
    const grants = await admin.get('/v1/entities/invoice/I-7/grants');
    expect(grants.body.items).toEqual([expect.objectContaining({ userId: 'carol', access: 'write' })]);
    expect((await carol.put(`/v1/files/${file.id}/references/ticket/T-77`)).status).toBe(204);

    expect((await admin.del('/v1/entities/invoice/I-7/grants/carol')).status).toBe(204);
    expect((await admin.get('/v1/entities/invoice/I-7/grants')).body.items).toEqual([]);
    expect((await member.put('/v1/entities/invoice/I-7/grants/carol', { access: 'read' })).status).toBe(403);
  });

  it('deletes an entity: references go, and unreferenced files go where the bucket says so', async () => {
    const sweeping = (await admin.post('/v1/buckets', { name: 'Sweeping', deleteUnreferenced: true })).body;
    const keep = await activeFile(member, bucket.id, 'keep.csv', [
      { entityType: 'project', entityId: 'GONE' },
    ]);
    const sweep = await activeFile(member, sweeping.id, 'sweep.csv', [
      { entityType: 'project', entityId: 'GONE' },
    ]);
    const both = await activeFile(member, sweeping.id, 'both.csv', [
      { entityType: 'project', entityId: 'GONE' },
      { entityType: 'project', entityId: 'STAYS' },
    ]);
    expect((await member.del('/v1/entities/project/GONE')).status).toBe(403);
    const res = await admin.del('/v1/entities/project/GONE');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ removed: 3 });
    expect((await admin.get(`/v1/files/${keep.id}`)).body).toMatchObject({
      status: 'active',
      references: [],
    });
    expect((await admin.get(`/v1/files/${sweep.id}`)).body.status).toBe('deleted');
    expect((await admin.get(`/v1/files/${both.id}`)).body).toMatchObject({
      status: 'active',
      references: [{ entityType: 'project', entityId: 'STAYS' }],
    });
    expect((await admin.get('/v1/entities/project/GONE/files')).body.items).toEqual([]);
  });

  it('refuses references to a deleted file', async () => {
    const file = await activeFile(member, bucket.id, 'old.csv');
    await member.del(`/v1/files/${file.id}`);
    expect((await member.put(`/v1/files/${file.id}/references/ticket/T-1`)).status).toBe(409);
  });
});

describe('tenant isolation', () => {
  it('answers 404 for another tenant’s file on every route', async () => {
    const file = await activeFile(member, bucket.id, 'mine.csv');
    for (const [method, path] of [
      ['GET', `/v1/files/${file.id}`],
      ['GET', `/v1/files/${file.id}/download`],
      ['DELETE', `/v1/files/${file.id}`],
      ['POST', `/v1/files/${file.id}/restore`],
      ['POST', `/v1/files/${file.id}/complete`],
      ['DELETE', `/v1/files/${file.id}/upload`],
      ['PUT', `/v1/files/${file.id}/references/ticket/X`],
      ['POST', `/v1/buckets/${bucket.id}/uploads`],
    ] as const) {
      const body = path.endsWith('/uploads')
        ? { filename: 'x', contentType: 'text/plain', size: 1 }
        : method === 'POST'
          ? {}
          : undefined;
      const res = await stranger.call(method, path, body);
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.body.error.code).toBe('NOT_FOUND');
    }
    expect((await member.get(`/v1/files/${file.id}`)).body.status).toBe('active');
  });
});
