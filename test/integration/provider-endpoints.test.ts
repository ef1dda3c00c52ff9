import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { dnsHostResolver } from '../../shared/adapters/dns-host-resolver.js';
import type { Actor } from '../../shared/domain/model.js';
import type { HostResolver } from '../../shared/ports/host-resolver.js';
import { type Client, client, newTenant } from '../support/api.js';
import { composeSecondApp } from '../support/second-app.js';

/**
 * Endpoints the service may call (API.md section 13.7), attacked as a tenant admin would: a
 * provider endpoint on loopback, the instance metadata address, odd spellings of 127.0.0.1,
 * userinfo and path tricks are refused with 400 and leave nothing behind; a name that resolved
 * public when the provider was created and resolves to loopback later never gets a connection.
 * The test stack allow-lists exactly one origin, the embedded store's (global setup).
 */

let admin: Client;
let trap: Server;
let trapPort = 0;
/** TCP connections the loopback trap accepted: any is a request the service should never send. */
let trapped = 0;

beforeAll(async () => {
  admin = await client(newTenant('ep'), 'alice', ['admin']);
  trap = createServer((socket) => {
    trapped += 1;
    socket.destroy();
  });
  await new Promise<void>((done) => trap.listen(0, '127.0.0.1', done));
  trapPort = (trap.address() as { port: number }).port;
});
afterAll(() => new Promise<void>((done) => trap.close(() => done())));

const providerBody = (endpoint: string) => ({
  type: 's3',
  name: `at ${endpoint}`.slice(0, 128),
  config: { bucket: 'tenant-files', region: 'us-east-1', endpoint, forcePathStyle: true },
  credentials: { accessKeyId: 'AKIATENANT', secretAccessKey: 'tenant-secret' },
});

describe('a provider endpoint', () => {
  const refused = () => [
    `http://127.0.0.1:${trapPort}/x`,
    `http://127.0.0.1:${trapPort}`,
    `https://127.0.0.1:${trapPort}`,
    'https://169.254.169.254',
    'https://[fd00:ec2::254]',
    'https://[::ffff:127.0.0.1]',
    'https://[::ffff:169.254.169.254]',
    'https://[::]',
    'https://[::1]',
    'https://2130706433',
    'https://0x7f.1',
    'https://127.1',
    'https://10.0.0.1',
    'https://100.64.0.1',
    'https://192.168.0.10',
    'https://localhost', // a name: resolved, and it answers 127.0.0.1
    `https://localhost:${trapPort}`,
    'https://user@s3.example.com',
    'https://s3.example.com@127.0.0.1',
    'https://s3.example.com/path?x',
    'https://s3.example.com/..',
    'https://s3.example.com#x',
    'http://s3.example.com', // plain http off the allow-list
    'https://does-not-resolve.invalid', // a name with no public answer
    // The allow-list is exact: the embedded store's origin with a path, or spelt otherwise.
    `${inject('s3Endpoint')}/x`,
    inject('s3Endpoint').replace('127.0.0.1', 'localhost'),
  ];

  it('is refused with 400 VALIDATION_FAILED when it is not https on public addresses', async () => {
    const before = (await admin.get('/v1/providers')).body.items.length;
    for (const endpoint of refused()) {
      const answer = await admin.post('/v1/providers', providerBody(endpoint));
      expect(answer.status, endpoint).toBe(400);
      expect(answer.body.error.code, endpoint).toBe('VALIDATION_FAILED');
      expect(JSON.stringify(answer.body), endpoint).not.toContain('tenant-secret');
    }
    // Nothing half-made: no provider, and the check itself connected nowhere.
    expect((await admin.get('/v1/providers')).body.items.length).toBe(before);
    expect(trapped).toBe(0);
  });

  it('names the rule in the answer without revealing what a name resolved to', async () => {
    const answer = await admin.post('/v1/providers', providerBody('https://localhost'));
    expect(answer.body.error.details.issues).toEqual([
      { path: 'body.config.endpoint', message: 'must resolve to public addresses only' },
    ]);
    expect(JSON.stringify(answer.body)).not.toContain('127.0.0.1');
  });

  it('is accepted for exactly the allow-listed origin, plain http on loopback included', async () => {
    const answer = await admin.post('/v1/providers', providerBody(inject('s3Endpoint')));
    expect(answer.status, JSON.stringify(answer.body)).toBe(201);
    expect((await admin.del(`/v1/providers/${answer.body.id}`)).status).toBe(204);
  });
});

describe('a provider whose name resolves public at creation and to loopback later (DNS rebinding)', () => {
  it('never gets a connection: the guard judges the address actually connected to', async () => {
    // Prepare: `localhost` answers a public address once (the check at creation), then what
    // the system resolver says (127.0.0.1), as a rebinding name would.
    let calls = 0;
    const resolver: HostResolver = {
      async resolve(hostname) {
        calls += 1;
        return calls === 1 ? [{ address: '93.184.216.34', family: 4 }] : dnsHostResolver.resolve(hostname);
      },
    };
    const { app } = await composeSecondApp({ label: 'rebind', resolver });
    const actor: Actor = { tenantId: newTenant('rb'), userId: 'mallory', roles: ['admin'] };
    const { services } = app;
    const provider = await services.providers.create(actor, {
      type: 's3',
      name: 'Rebinding',
      config: {
        bucket: 'tenant-files',
        region: 'us-east-1',
        endpoint: `https://localhost:${trapPort}`,
        forcePathStyle: true,
      },
      credentials: { accessKeyId: 'AKIATENANT', secretAccessKey: 'tenant-secret' },
    });
    const bucket = await services.buckets.create(actor, { name: 'Rebound', providerId: provider.id });
    const { file } = await services.uploads.initiate(actor, bucket.id, {
      filename: 'x.txt',
      contentType: 'text/plain',
      size: 3,
    });

    // Act: `complete` makes the service HEAD and read the object at the provider.
    const completing = services.uploads.complete(actor, file.id, undefined);

    // Assess
    await expect(completing).rejects.toThrow();
    expect(trapped).toBe(0);
    // The guard did ask again at connect time, and was told 127.0.0.1.
    expect(calls).toBeGreaterThanOrEqual(2);
  });
});

describe('a provider without credentials', () => {
  it('is refused the URLs it cannot sign with 409, leaving no pending file or reservation', async () => {
    // Prepare: the contract lets an admin create one; the service never lends it its own key.
    const tenant = await client(newTenant('anon'), 'alice', ['admin']);
    const provider = await tenant.post('/v1/providers', {
      type: 's3',
      name: 'Anonymous',
      config: { bucket: 'public-bucket', region: 'eu-west-1' },
    });
    expect(provider.status).toBe(201);
    expect(provider.body.hasCredentials).toBe(false);
    const bucket = await tenant.post('/v1/buckets', { name: 'Unsigned', providerId: provider.body.id });

    // Act
    const initiated = await tenant.post(`/v1/buckets/${bucket.body.id}/uploads`, {
      filename: 'a.txt',
      contentType: 'text/plain',
      size: 3,
    });

    // Assess
    expect(initiated.status).toBe(409);
    expect(initiated.body.error.code).toBe('CONFLICT');
    expect((await tenant.get(`/v1/files?bucketId=${bucket.body.id}`)).body.items).toEqual([]);
    expect((await tenant.get('/v1/quota')).body).toMatchObject({ reservedBytes: 0, usedBytes: 0 });
  });
});
