import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGuardedAgents } from '../../../shared/adapters/guarded-http.js';
import { createProviderObjectStores } from '../../../shared/adapters/provider-object-stores.js';
import type { Provider, ProviderCredentials } from '../../../shared/domain/model.js';
import type { ObjectStore } from '../../../shared/ports/object-store.js';
import type { SecretStore } from '../../../shared/ports/secret-store.js';

/**
 * A tenant's provider without credentials must not borrow the function's own: the SDK's
 * default chain (environment, then the Lambda role) would sign its requests with them. The
 * provider here is a local HTTP server that records what reaches it, allow-listed as an
 * operator would, while the process holds a key of its own in the environment.
 */

const SERVICE_KEY = 'test-service-own-key';
let recorder: Server;
let origin = '';
const seen: { method: string; url: string; headers: IncomingHttpHeaders }[] = [];
const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };

beforeAll(async () => {
  recorder = createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    req.resume();
    res.writeHead(404, { 'content-type': 'application/xml' });
    res.end('<Error><Code>NoSuchKey</Code></Error>');
  });
  await new Promise<void>((done) => recorder.listen(0, '127.0.0.1', done));
  origin = `http://127.0.0.1:${(recorder.address() as { port: number }).port}`;
  process.env.AWS_ACCESS_KEY_ID = SERVICE_KEY;
  process.env.AWS_SECRET_ACCESS_KEY = 'the-service-own-secret';
});
afterAll(async () => {
  process.env.AWS_ACCESS_KEY_ID = saved.id;
  process.env.AWS_SECRET_ACCESS_KEY = saved.secret;
  if (saved.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
  if (saved.secret === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
  await new Promise<void>((done) => recorder.close(() => done()));
});

function storesFor(provider: Provider, credentials: ProviderCredentials | null) {
  const secrets: SecretStore = {
    putProviderCredentials: async () => undefined,
    getProviderCredentials: async () => credentials,
    deleteProviderCredentials: async () => undefined,
    putWebhookSecret: async () => undefined,
    getWebhookSecret: async () => null,
    deleteWebhookSecret: async () => undefined,
  };
  return createProviderObjectStores({
    defaultStore: {} as ObjectStore,
    providers: { get: async () => provider },
    secrets,
    agents: createGuardedAgents({
      allowedOrigins: [origin],
      resolver: { resolve: async () => [] },
    }),
  });
}

const provider = (hasCredentials: boolean): Provider => ({
  id: hasCredentials ? 'P-SIGNED' : 'P-ANON',
  type: 's3',
  name: 'recorded',
  config: { bucket: 'tenant-bucket', region: 'us-east-1', endpoint: origin, forcePathStyle: true },
  hasCredentials,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
});

/** Calls that reach the provider; each fails on the recorder's 404, which is fine. */
async function exercise(store: ObjectStore) {
  await store.head('tenants/t/b/f').catch(() => undefined);
  await store.readFirstBytes('tenants/t/b/f', 100).catch(() => undefined);
  await store
    .copy({ sourceKey: 'tenants/t/b/f', destinationKey: 'quarantine/tenants/t/b/f' })
    .catch(() => undefined);
  await store.delete('tenants/t/b/f').catch(() => undefined);
}

describe('a tenant provider', () => {
  it('without credentials sends unsigned requests, never signed with the service key', async () => {
    // Prepare
    seen.length = 0;
    const store = await storesFor(provider(false), null).forProvider('t', 'P-ANON');

    // Act
    await exercise(store);

    // Assess: the calls arrived, and none carries a signature of any key.
    expect(seen.length).toBeGreaterThanOrEqual(4);
    for (const request of seen) {
      expect(request.headers.authorization, `${request.method} ${request.url}`).toBeUndefined();
      expect(JSON.stringify(request)).not.toContain(SERVICE_KEY);
      expect(request.url).not.toMatch(/X-Amz-(Signature|Credential)/i);
      expect(request.headers['x-amz-security-token']).toBeUndefined();
    }
  });

  it('without credentials signs no URL at all, rather than one with the service key', async () => {
    const store = await storesFor(provider(false), null).forProvider('t', 'P-ANON');
    const input = {
      key: 'tenants/t/b/f',
      contentLength: 3,
      contentType: 'text/plain',
      contentDisposition: 'attachment',
      expiresInSeconds: 60,
    };
    // A state of the provider, not a fault: 409 CONFLICT reaches the caller (API.md section 0).
    const noCredentials = expect.objectContaining({
      code: 'CONFLICT',
      message: expect.stringMatching(/no credentials/),
    });
    await expect(store.presignPut(input)).rejects.toEqual(noCredentials);
    await expect(store.presignPost(input)).rejects.toEqual(noCredentials);
    await expect(store.presignGet(input)).rejects.toEqual(noCredentials);
  });

  it('whose secret has gone missing is anonymous too', async () => {
    seen.length = 0;
    const store = await storesFor(provider(true), null).forProvider('t', 'P-SIGNED');
    await exercise(store);
    expect(seen.length).toBeGreaterThanOrEqual(4);
    for (const request of seen) expect(request.headers.authorization).toBeUndefined();
  });

  it('with credentials signs with its own key only', async () => {
    seen.length = 0;
    const store = await storesFor(provider(true), {
      accessKeyId: 'test-tenant-own-key',
      secretAccessKey: 'tenant-secret',
    }).forProvider('t', 'P-SIGNED');
    await exercise(store);
    expect(seen.length).toBeGreaterThanOrEqual(4);
    for (const request of seen) {
      expect(request.headers.authorization).toContain('Credential=test-tenant-own-key/');
      expect(JSON.stringify(request)).not.toContain(SERVICE_KEY);
    }
  });
});
