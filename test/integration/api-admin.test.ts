import { beforeAll, describe, expect, inject, it } from 'vitest';
import { type Client, client, newTenant } from '../support/api.js';

let admin: Client;
let member: Client;
let viewer: Client;
let otherTenant: Client;

beforeAll(async () => {
  const tenant = newTenant('admin');
  admin = await client(tenant, 'alice', ['admin']);
  member = await client(tenant, 'bob', ['member']);
  viewer = await client(tenant, 'vic', ['viewer']);
  otherTenant = await client(newTenant('other'), 'mallory', ['admin']);
});

describe('health and description', () => {
  it('answers health without a token', async () => {
    const res = await fetch(`${inject('apiUrl')}/v1/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('serves an OpenAPI 3.1 document of every route', async () => {
    const res = await fetch(`${inject('apiUrl')}/v1/openapi.json`);
    const doc = await res.json();
    expect(doc.openapi).toBe('3.1.0');
    for (const [path, method] of [
      ['/v1/buckets/{bucketId}/uploads', 'post'],
      ['/v1/files/{fileId}/complete', 'post'],
      ['/v1/files', 'get'],
      ['/v1/entities/{entityType}/{entityId}/grants/{userId}', 'put'],
      ['/v1/quota', 'put'],
      ['/v1/events', 'get'],
    ] as const)
      expect(doc.paths[path]?.[method], `${method} ${path}`).toBeDefined();
    const upload = doc.components.schemas.InitiateUploadRequest;
    expect(upload.required).toEqual(expect.arrayContaining(['filename', 'contentType', 'size']));
    expect(upload.additionalProperties).toBe(false);
  });
});

describe('providers', () => {
  it('lists the built-in default provider first', async () => {
    const { status, body } = await admin.get('/v1/providers');
    expect(status).toBe(200);
    expect(body.items[0]).toMatchObject({ id: 'default', type: 's3', hasCredentials: false });
    expect(body.nextCursor).toBeNull();
  });

  it('creates a provider, never returns its credentials, and deletes it', async () => {
    const created = await admin.post('/v1/providers', {
      type: 's3',
      name: 'Main Storage',
      config: {
        bucket: 'company-files',
        region: 'us-west-2',
        // The embedded store's origin, which the test stack allow-lists (API.md section 13.7).
        endpoint: inject('s3Endpoint'),
        forcePathStyle: true,
      },
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'super-secret-value' },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ type: 's3', name: 'Main Storage', hasCredentials: true });
    expect(JSON.stringify(created.body)).not.toContain('super-secret-value');
    const id = created.body.id;

    const got = await admin.get(`/v1/providers/${id}`);
    expect(got.body).toEqual(created.body);
    expect(JSON.stringify((await admin.get('/v1/providers')).body)).not.toContain('super-secret-value');

    const events = await admin.get('/v1/events?type=provider.created');
    expect(events.body.items.some((e: any) => e.providerId === id)).toBe(true);
    expect(JSON.stringify(events.body)).not.toContain('super-secret-value');

    expect((await admin.del(`/v1/providers/${id}`)).status).toBe(204);
    expect((await admin.get(`/v1/providers/${id}`)).status).toBe(404);
    expect((await admin.del(`/v1/providers/${id}`)).status).toBe(404);
  });

  it('refuses to delete the default provider or one a bucket uses', async () => {
    expect((await admin.del('/v1/providers/default')).body.error.code).toBe('CONFLICT');
    const p = await admin.post('/v1/providers', {
      type: 's3',
      name: 'P',
      config: { bucket: 'pbucket', region: 'eu-west-1' },
    });
    const b = await admin.post('/v1/buckets', { name: 'On P', providerId: p.body.id });
    expect(b.status).toBe(201);
    const blocked = await admin.del(`/v1/providers/${p.body.id}`);
    expect(blocked.status).toBe(409);
    expect((await admin.del(`/v1/buckets/${b.body.id}`)).status).toBe(204);
    expect((await admin.del(`/v1/providers/${p.body.id}`)).status).toBe(204);
  });

  it('is admin only, and another tenant sees 404', async () => {
    expect((await member.get('/v1/providers')).status).toBe(403);
    const p = await admin.post('/v1/providers', {
      type: 's3',
      name: 'Mine',
      config: { bucket: 'minebucket', region: 'eu-west-1' },
    });
    expect((await otherTenant.get(`/v1/providers/${p.body.id}`)).status).toBe(404);
    expect((await otherTenant.del(`/v1/providers/${p.body.id}`)).status).toBe(404);
  });
});

describe('buckets', () => {
  it('creates with defaults and rules, lists, patches and deletes', async () => {
    const created = await admin.post('/v1/buckets', {
      name: 'Customer Files',
      path: '/customer-files',
      allowedMimeTypes: ['image/jpeg', 'image/png', 'application/pdf'],
      maxFileSize: 10485760,
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: 'Customer Files',
      providerId: 'default',
      path: '/customer-files',
      allowedMimeTypes: ['image/jpeg', 'image/png', 'application/pdf'],
      maxFileSize: 10485760,
      retentionDays: 30,
      restricted: false,
      deleteUnreferenced: false,
    });
    const id = created.body.id;

    const any = await admin.post('/v1/buckets', { name: 'Anything' });
    expect(any.body.allowedMimeTypes).toBeNull();
    expect(any.body.maxFileSize).toBe(5 * 1024 ** 3);

    expect((await viewer.get(`/v1/buckets/${id}`)).body).toEqual(created.body);
    const listed = await viewer.get('/v1/buckets');
    expect(listed.body.items.map((b: any) => b.id)).toEqual(expect.arrayContaining([id, any.body.id]));

    const patched = await admin.patch(`/v1/buckets/${id}`, {
      name: 'Client Files',
      retentionDays: 7,
      allowedMimeTypes: ['image/*'],
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({
      name: 'Client Files',
      retentionDays: 7,
      allowedMimeTypes: ['image/*'],
    });
    // the old name is free again, the new one is taken (case-insensitively)
    expect((await admin.post('/v1/buckets', { name: 'customer files' })).status).toBe(201);
    expect((await admin.post('/v1/buckets', { name: 'CLIENT FILES' })).status).toBe(409);

    expect((await admin.del(`/v1/buckets/${id}`)).status).toBe(204);
    expect((await admin.get(`/v1/buckets/${id}`)).status).toBe(404);
  });

  it('checks its input', async () => {
    const bad = [
      { name: 'x', allowedMimeTypes: [] },
      { name: 'x', allowedMimeTypes: ['not a type'] },
      { name: 'x', maxFileSize: -1 },
      { name: 'x', maxFileSize: 6 * 1024 ** 3 },
      { name: 'x', retentionDays: 3651 },
      { name: '' },
      { name: 'x', color: 'blue' },
      { name: 'x', path: '../etc' },
    ];
    for (const body of bad) {
      const res = await admin.post('/v1/buckets', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_FAILED');
    }
    expect((await admin.post('/v1/buckets', { name: 'y', providerId: 'nope' })).status).toBe(404);
    expect((await member.post('/v1/buckets', { name: 'z' })).status).toBe(403);
  });

  it('keeps tenants apart', async () => {
    const b = await admin.post('/v1/buckets', { name: 'Private' });
    expect((await otherTenant.get(`/v1/buckets/${b.body.id}`)).status).toBe(404);
    expect((await otherTenant.patch(`/v1/buckets/${b.body.id}`, { name: 'Mine now' })).status).toBe(404);
    expect((await otherTenant.del(`/v1/buckets/${b.body.id}`)).status).toBe(404);
    const theirs = await otherTenant.get('/v1/buckets');
    expect(theirs.body.items.some((x: any) => x.id === b.body.id)).toBe(false);
  });
});

describe('quota and events', () => {
  it('reads and sets the quota', async () => {
    expect((await viewer.get('/v1/quota')).body).toEqual({
      limitBytes: null,
      usedBytes: 0,
      reservedBytes: 0,
      fileCount: 0,
    });
    expect((await admin.put('/v1/quota', { limitBytes: 1000 })).body.limitBytes).toBe(1000);
    expect((await viewer.get('/v1/quota')).body.limitBytes).toBe(1000);
    expect((await member.put('/v1/quota', { limitBytes: 5 })).status).toBe(403);
    expect((await admin.put('/v1/quota', { limitBytes: -5 })).status).toBe(400);
    expect((await admin.put('/v1/quota', { limitBytes: null })).body.limitBytes).toBeNull();
  });

  it('keeps an audit trail newest first, for admins', async () => {
    const { body } = await admin.get('/v1/events?limit=2');
    expect(body.items).toHaveLength(2);
    expect(body.items[0].id > body.items[1].id).toBe(true);
    expect(body.nextCursor).not.toBeNull();
    const next = await admin.get(`/v1/events?limit=2&cursor=${encodeURIComponent(body.nextCursor)}`);
    expect(next.body.items[0].id < body.items[1].id).toBe(true);
    expect((await member.get('/v1/events')).status).toBe(403);
  });
});
