import { beforeAll, describe, expect, it } from 'vitest';
import { type Client, client, newTenant, sendBytes } from '../support/api.js';
import { CSV } from '../support/samples.js';

/** API.md 13.3: rename and metadata through the HTTP API, on the embedded store and DynamoDB Local. */

let admin: Client;
let bob: Client; // uploader
let carol: Client; // another member
let wendy: Client; // member with a write grant on ticket T-1
let reed: Client; // member with a read grant on ticket T-1
let viewer: Client;
let stranger: Client; // another tenant's admin
let bucket: any;

async function activeFile(api: Client, name: string, refs: any[] = [], bucketId = bucket.id) {
  const init = await api.post(`/v1/buckets/${bucketId}/uploads`, {
    filename: name,
    contentType: 'text/csv',
    size: CSV.length,
    references: refs,
  });
  expect(init.status, JSON.stringify(init.body)).toBe(201);
  await sendBytes(init.body.upload, CSV);
  const done = await api.post(`/v1/files/${init.body.file.id}/complete`, {});
  expect(done.body.status).toBe('active');
  return done.body;
}

beforeAll(async () => {
  const tenant = newTenant('upd');
  admin = await client(tenant, 'alice', ['admin']);
  bob = await client(tenant, 'bob', ['member']);
  carol = await client(tenant, 'carol', ['member']);
  wendy = await client(tenant, 'wendy', ['member']);
  reed = await client(tenant, 'reed', ['member']);
  viewer = await client(tenant, 'vic', ['viewer']);
  stranger = await client(newTenant('other'), 'mallory', ['admin']);
  bucket = (await admin.post('/v1/buckets', { name: 'Updates' })).body;
  expect((await admin.put('/v1/entities/ticket/T-1/grants/wendy', { access: 'write' })).status).toBe(204);
  expect((await admin.put('/v1/entities/ticket/T-1/grants/reed', { access: 'read' })).status).toBe(204);
});

describe('PATCH /v1/files/{fileId}: rename', () => {
  it('renames, keeps the storage key, and the download carries the new name', async () => {
    const file = await activeFile(bob, 'draft.csv');
    expect(file.metadata).toEqual({});
    const before = await bob.get(`/v1/files/${file.id}/download`);
    const keyBefore = new URL(before.body.url).pathname;

    const renamed = await bob.patch(`/v1/files/${file.id}`, { name: 'Résumé final "v2".csv' });
    expect(renamed.status, JSON.stringify(renamed.body)).toBe(200);
    expect(renamed.body).toMatchObject({ id: file.id, originalName: 'Résumé final "v2".csv', metadata: {} });
    expect(renamed.body.updatedAt > file.updatedAt).toBe(true);
    expect((await bob.get(`/v1/files/${file.id}`)).body.originalName).toBe('Résumé final "v2".csv');

    const after = await bob.get(`/v1/files/${file.id}/download`);
    expect(new URL(after.body.url).pathname).toBe(keyBefore);
    expect(keyBefore.endsWith(`/${file.id}`)).toBe(true);
    const got = await fetch(after.body.url);
    expect(got.status).toBe(200);
    expect(Buffer.from(await got.arrayBuffer())).toEqual(CSV);
    const disposition = got.headers.get('content-disposition') ?? '';
    expect(disposition).toContain(`filename*=UTF-8''${encodeURIComponent('Résumé final "v2".csv')}`);
    expect(disposition).toContain('filename="Resume final _v2_.csv"');
    expect(disposition).not.toContain('draft');

    const events = await admin.get(`/v1/events?type=file.updated&fileId=${file.id}`);
    expect(events.body.items).toHaveLength(1);
    expect(events.body.items[0]).toMatchObject({
      actor: 'bob',
      status: 'ok',
      details: { fields: ['name'], previousName: 'draft.csv', name: 'Résumé final "v2".csv' },
    });
  });

  it('takes the name through the rules of section 10 (NFC), and refuses bad names leaving the file as it was', async () => {
    const file = await activeFile(bob, 'keep.csv');
    const nfd = 'Cafe\u0301.csv';
    const ok = await bob.patch(`/v1/files/${file.id}`, { name: nfd });
    expect(ok.body.originalName).toBe('Caf\u00e9.csv');
    for (const name of [
      '',
      '   ',
      'a/b.csv',
      'a\\b',
      '..',
      '.',
      'evil\u202Etxt.exe',
      'nul\u0000.csv',
      'x'.repeat(256),
      42,
      null,
    ]) {
      const answer = await bob.patch(`/v1/files/${file.id}`, { name });
      expect(answer.status, JSON.stringify(name)).toBe(400);
      expect(answer.body.error.code).toBe('VALIDATION_FAILED');
    }
    const now = await bob.get(`/v1/files/${file.id}`);
    expect(now.body.originalName).toBe('Caf\u00e9.csv');
  });
});

describe('PATCH /v1/files/{fileId}: metadata', () => {
  it('replaces the whole map, {} clears it, and every file answer carries it', async () => {
    const file = await activeFile(bob, 'meta.csv');
    const first = await bob.patch(`/v1/files/${file.id}`, {
      metadata: { project: 'apollo', 'stage.v-1_x': 'b' },
    });
    expect(first.status).toBe(200);
    expect(first.body.metadata).toEqual({ project: 'apollo', 'stage.v-1_x': 'b' });
    const second = await bob.patch(`/v1/files/${file.id}`, { metadata: { owner: 'ops' } });
    expect(second.body.metadata).toEqual({ owner: 'ops' });
    expect((await bob.get(`/v1/files/${file.id}`)).body.metadata).toEqual({ owner: 'ops' });
    const listed = await bob.get(`/v1/files?bucketId=${bucket.id}`);
    expect(listed.body.items.find((f: any) => f.id === file.id).metadata).toEqual({ owner: 'ops' });
    for (const item of listed.body.items) expect(item.metadata).toBeTypeOf('object');
    const both = await bob.patch(`/v1/files/${file.id}`, { name: 'both.csv', metadata: {} });
    expect(both.body).toMatchObject({ originalName: 'both.csv', metadata: {} });
  });

  it('holds the limits exactly: 20 keys, 64-character keys, 512-character values, 4 KiB in all', async () => {
    const file = await activeFile(bob, 'limits.csv');
    const twenty = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, 'v']));
    expect((await bob.patch(`/v1/files/${file.id}`, { metadata: twenty })).status).toBe(200);
    const longest = { ['k'.repeat(64)]: 'é'.repeat(512) };
    expect((await bob.patch(`/v1/files/${file.id}`, { metadata: longest })).status).toBe(200);
    // 8 keys of 2 bytes, 7 values of 512 and 1 of 496 ASCII: 4096 bytes exactly, then one more.
    const full = Object.fromEntries(
      Array.from({ length: 8 }, (_, i) => [`k${i}`, 'x'.repeat(i < 7 ? 512 : 496)]),
    );
    expect((await bob.patch(`/v1/files/${file.id}`, { metadata: full })).status).toBe(200);
    const stored = (await bob.get(`/v1/files/${file.id}`)).body.metadata;

    const hostile: unknown[] = [
      { ...twenty, k20: 'v' }, // 21 keys
      { ['k'.repeat(65)]: 'v' },
      { '': 'v' },
      { 'a b': 'v' },
      { 'a/b': 'v' },
      { ключ: 'v' },
      { 'a#b': 'v' },
      { k: 'x'.repeat(513) },
      { k: 'é'.repeat(513) },
      { ...full, k7: 'x'.repeat(497) }, // 4097 bytes
      { k: 1 },
      { k: null },
      { k: { nested: 'v' } },
      ['a', 'b'],
      null,
      'project=apollo',
    ];
    for (const metadata of hostile) {
      const answer = await bob.patch(`/v1/files/${file.id}`, { metadata });
      expect(answer.status, JSON.stringify(metadata).slice(0, 80)).toBe(400);
      expect(answer.body.error.code).toBe('VALIDATION_FAILED');
      expect(JSON.stringify(answer.body)).not.toMatch(/at .*\.ts:\d+/);
    }
    expect((await bob.get(`/v1/files/${file.id}`)).body.metadata).toEqual(stored);
  });

  it('refuses a __proto__ key (zod would drop it silently) and keeps the map as it was', async () => {
    const file = await activeFile(bob, 'proto.csv');
    await bob.patch(`/v1/files/${file.id}`, { metadata: { safe: 'yes' } });
    for (const text of [
      '{"metadata":{"__proto__":"x"}}',
      '{"metadata":{"a":"b","__proto__":{"admin":true}}}',
      '{"name":"x.csv","__proto__":{"status":"deleted"}}',
    ]) {
      const answer = await bob.patch(`/v1/files/${file.id}`, text);
      expect(answer.status, text).toBe(400);
    }
    expect((await bob.get(`/v1/files/${file.id}`)).body).toMatchObject({
      originalName: 'proto.csv',
      metadata: { safe: 'yes' },
    });
  });

  it('refuses unknown fields and an empty body', async () => {
    const file = await activeFile(bob, 'strict.csv');
    for (const body of [{}, { originalName: 'x.csv' }, { name: 'x.csv', status: 'deleted' }]) {
      const answer = await bob.patch(`/v1/files/${file.id}`, body);
      expect(answer.status, JSON.stringify(body)).toBe(400);
    }
    expect((await bob.patch(`/v1/files/${file.id}`, 'not json')).status).toBe(400);
    expect((await bob.get(`/v1/files/${file.id}`)).body.originalName).toBe('strict.csv');
  });
});

describe('PATCH /v1/files/{fileId}: who, and in which state', () => {
  it('the uploader, an admin, or a write grant; not another member, a read grant or a viewer', async () => {
    const open = await activeFile(bob, 'open.csv');
    const ticketed = await activeFile(bob, 'ticketed.csv', [{ entityType: 'ticket', entityId: 'T-1' }]);
    expect((await admin.patch(`/v1/files/${open.id}`, { name: 'by-admin.csv' })).status).toBe(200);
    // An open file may be deleted by any member (section 8), but renamed only by these (13.3).
    expect((await carol.patch(`/v1/files/${open.id}`, { name: 'by-carol.csv' })).status).toBe(403);
    expect((await wendy.patch(`/v1/files/${ticketed.id}`, { name: 'by-wendy.csv' })).status).toBe(200);
    const readOnly = await reed.patch(`/v1/files/${ticketed.id}`, { name: 'by-reed.csv' });
    expect(readOnly.status).toBe(403);
    expect(readOnly.body.error.code).toBe('FORBIDDEN');
    // A viewer is refused by role before the body is read: 403 even with a bad body.
    expect((await viewer.patch(`/v1/files/${open.id}`, { name: '' })).status).toBe(403);
    // Carol cannot see the ticketed file at all: 404, as for another tenant.
    expect((await carol.patch(`/v1/files/${ticketed.id}`, { name: 'x.csv' })).status).toBe(404);
    const foreign = await stranger.patch(`/v1/files/${open.id}`, { name: 'x.csv' });
    expect(foreign.status).toBe(404);
    expect(foreign.body.error.code).toBe('NOT_FOUND');
    expect((await bob.patch('/v1/files/no-such-file', { name: 'x.csv' })).status).toBe(404);
    expect((await bob.patch('/v1/files/bad%20id', { name: 'x.csv' })).status).toBe(400);
    expect((await bob.get(`/v1/files/${open.id}`)).body.originalName).toBe('by-admin.csv');
    expect((await bob.get(`/v1/files/${ticketed.id}`)).body.originalName).toBe('by-wendy.csv');
  });

  it('a deleted file is 409 and keeps its name; a pending one can be renamed', async () => {
    const file = await activeFile(bob, 'gone.csv');
    expect((await bob.del(`/v1/files/${file.id}`)).status).toBe(204);
    const answer = await bob.patch(`/v1/files/${file.id}`, { name: 'new.csv' });
    expect(answer.status).toBe(409);
    expect(answer.body.error.code).toBe('CONFLICT');
    expect((await bob.get(`/v1/files/${file.id}`)).body.originalName).toBe('gone.csv');

    const init = await bob.post(`/v1/buckets/${bucket.id}/uploads`, {
      filename: 'pending.csv',
      contentType: 'text/csv',
      size: CSV.length,
    });
    const renamed = await bob.patch(`/v1/files/${init.body.file.id}`, { name: 'arrived.csv' });
    expect(renamed.body).toMatchObject({ status: 'pending', originalName: 'arrived.csv' });
    await sendBytes(init.body.upload, CSV);
    const done = await bob.post(`/v1/files/${init.body.file.id}/complete`, {});
    expect(done.body).toMatchObject({ status: 'active', originalName: 'arrived.csv' });
  });
});

describe('the metadata.KEY=value filter', () => {
  let own: any;
  let a: any;
  let b: any;
  let c: any;
  beforeAll(async () => {
    own = (await admin.post('/v1/buckets', { name: 'Filtered' })).body;
    a = await activeFile(bob, 'a.csv', [{ entityType: 'project', entityId: 'P-9' }], own.id);
    b = await activeFile(bob, 'b.csv', [{ entityType: 'project', entityId: 'P-9' }], own.id);
    c = await activeFile(bob, 'c.csv', [], own.id);
    await bob.patch(`/v1/files/${a.id}`, { metadata: { project: 'apollo', 'cost.center': 'x-1' } });
    await bob.patch(`/v1/files/${b.id}`, { metadata: { project: 'gemini' } });
    await bob.patch(`/v1/files/${c.id}`, { metadata: { project: 'apollo' } });
  });

  it('narrows GET /v1/files and entity listings to one key and value, exactly', async () => {
    const ids = (answer: any) => answer.body.items.map((f: any) => f.id);
    expect(ids(await bob.get(`/v1/files?bucketId=${own.id}&metadata.project=apollo`))).toEqual([c.id, a.id]);
    expect(ids(await bob.get(`/v1/files?bucketId=${own.id}&metadata.project=gemini`))).toEqual([b.id]);
    expect(ids(await bob.get(`/v1/files?bucketId=${own.id}&metadata.project=Apollo`))).toEqual([]);
    expect(ids(await bob.get(`/v1/files?bucketId=${own.id}&metadata.cost.center=x-1`))).toEqual([a.id]);
    expect(ids(await bob.get(`/v1/files?bucketId=${own.id}&metadata.nothing=apollo`))).toEqual([]);
    expect(ids(await bob.get('/v1/files?metadata.cost.center=x-1'))).toEqual([a.id]);
    expect(ids(await bob.get('/v1/entities/project/P-9/files?metadata.project=apollo'))).toEqual([a.id]);
    expect(ids(await bob.get('/v1/files?entityType=project&entityId=P-9&metadata.project=gemini'))).toEqual([
      b.id,
    ]);
    // Another tenant's filter sees nothing of this one.
    expect(ids(await stranger.get('/v1/files?metadata.project=apollo'))).toEqual([]);
  });

  it('pages with a cursor bound to the filter', async () => {
    const first = await bob.get(`/v1/files?bucketId=${own.id}&metadata.project=apollo&limit=1`);
    expect(first.body.items.map((f: any) => f.id)).toEqual([c.id]);
    const cursor = encodeURIComponent(first.body.nextCursor);
    const second = await bob.get(
      `/v1/files?bucketId=${own.id}&metadata.project=apollo&limit=1&cursor=${cursor}`,
    );
    expect(second.body.items.map((f: any) => f.id)).toEqual([a.id]);
    expect(second.body.nextCursor).toBeNull();
    expect(
      (await bob.get(`/v1/files?bucketId=${own.id}&metadata.project=gemini&limit=1&cursor=${cursor}`)).status,
    ).toBe(400);
    expect((await bob.get(`/v1/files?bucketId=${own.id}&limit=1&cursor=${cursor}`)).status).toBe(400);
  });

  it('refuses two filters, bad keys, long values and other unknown parameters', async () => {
    for (const q of [
      'metadata.project=apollo&metadata.owner=ops',
      'metadata.=x',
      'metadata.a%20b=x',
      `metadata.${'k'.repeat(65)}=x`,
      `metadata.k=${'x'.repeat(513)}`,
      'meta.project=apollo',
      'project=apollo',
      'metadata=apollo',
    ]) {
      const answer = await bob.get(`/v1/files?${q}`);
      expect(answer.status, q).toBe(400);
      expect(answer.body.error.code).toBe('VALIDATION_FAILED');
      expect((await bob.get(`/v1/entities/project/P-9/files?${q}`)).status, q).toBe(400);
    }
  });
});
