import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { composeWebhookDelivery } from '../../functions/lib/compose-webhooks.js';
import { mintDevToken } from '../../local/dev-token.js';
import type { Actor } from '../../shared/domain/model.js';
import type { DeliveryMessage } from '../../shared/domain/webhook.js';
import type { HostResolver } from '../../shared/ports/host-resolver.js';
import type { Logger } from '../../shared/ports/logger.js';
import { createStowageClient, StowageApiError, verifyWebhookSignature } from '../../web/client/index.js';
import { type Client, client, newTenant, sendBytes } from '../support/api.js';
import { CSV } from '../support/samples.js';
import { composeSecondApp } from '../support/second-app.js';
import { receiverKey } from '../support/webhook-receiver.js';

/**
 * API.md 13.5 through the local stack: webhooks get the tenant's events signed, at least once,
 * retried on the (test-shortened) schedule until dead; a receiver never slows the request that
 * caused the event; URLs follow 13.7 at creation and at each connection; tenants stay apart.
 * The receiver is a real HTTP server on loopback, the one origin the test stack allow-lists.
 */

let admin: Client;
let member: Client;
let stranger: Client;
let bucket: any;
const origin = () => inject('webhookReceiver');
let keyCount = 0;
const newKey = () => {
  keyCount += 1;
  return receiverKey(origin(), `k${Date.now().toString(36)}${keyCount}`);
};

beforeAll(async () => {
  const tenant = newTenant('hooks');
  admin = await client(tenant, 'alice', ['admin']);
  member = await client(tenant, 'bob', ['member']);
  stranger = await client(newTenant('other'), 'mallory', ['admin']);
  bucket = (await admin.post('/v1/buckets', { name: 'Hooked' })).body;
});

async function activeFile(api: Client, name: string) {
  const init = await api.post(`/v1/buckets/${bucket.id}/uploads`, {
    filename: name,
    contentType: 'text/csv',
    size: CSV.length,
  });
  expect(init.status, JSON.stringify(init.body)).toBe(201);
  await sendBytes(init.body.upload, CSV);
  const done = await api.post(`/v1/files/${init.body.file.id}/complete`, {});
  expect(done.body.status).toBe('active');
  return done.body;
}

async function eventually<T>(
  probe: () => Promise<T>,
  ok: (value: T) => boolean,
  timeoutMs = 15_000,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (ok(value) || Date.now() > until) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
}

const createHook = async (api: Client, url: string, events: string[]) => {
  const answer = await api.post('/v1/webhooks', { url, events });
  expect(answer.status, JSON.stringify(answer.body)).toBe(201);
  return answer.body;
};
const deliveriesOf = async (api: Client, id: string) =>
  (await api.get(`/v1/webhooks/${id}/deliveries`)).body.items;

describe('a webhook', () => {
  it('is created with a secret shown once, and listed without it', async () => {
    const key = newKey();
    const created = await createHook(admin, key.url, ['file.activated', 'file.deleted']);
    expect(created).toMatchObject({ url: key.url, events: ['file.activated', 'file.deleted'] });
    expect(created.id).toMatch(/^[0-9A-Z]{26}$/);
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/); // 256 random bits
    const list = await admin.get('/v1/webhooks');
    expect(list.status).toBe(200);
    expect(list.body.items).toContainEqual({
      id: created.id,
      url: key.url,
      events: created.events,
      createdAt: created.createdAt,
    });
    expect(JSON.stringify(list.body)).not.toContain(created.secret);
    expect(JSON.stringify((await admin.get(`/v1/webhooks/${created.id}/deliveries`)).body)).not.toContain(
      created.secret,
    );
    expect((await admin.del(`/v1/webhooks/${created.id}`)).status).toBe(204);
    expect((await admin.del(`/v1/webhooks/${created.id}`)).status).toBe(404);
  });

  it('gets file.activated for an upload that becomes active, signed so the client helper verifies it', async () => {
    // Prepare
    const key = newKey();
    const hook = await createHook(admin, key.url, ['file.activated']);
    // Act
    const file = await activeFile(member, 'signed.csv');
    // Assess
    const [got] = await eventually(key.received, (r) => r.length > 0);
    expect(got, 'no delivery arrived').toBeDefined();
    const payload = JSON.parse(got?.body as string);
    expect(payload).toMatchObject({ type: 'file.activated', tenantId: admin.tenantId });
    expect(payload.id).toMatch(/^[0-9A-Z]{26}$/);
    expect(payload.file).toMatchObject({ id: file.id, status: 'active', originalName: 'signed.csv' });
    const header = got?.headers['stowage-signature'] as string;
    expect(header).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    const body = got?.body as string;
    expect(await verifyWebhookSignature({ body, header, secret: hook.secret })).toBe(true);
    expect(
      await verifyWebhookSignature({
        body: body.replace('signed.csv', 'forged.csv'),
        header,
        secret: hook.secret,
      }),
    ).toBe(false);
    expect(
      await verifyWebhookSignature({ body, header, secret: hook.secret, now: Date.now() + 10 * 60_000 }),
    ).toBe(false);
    const deliveries = await eventually(
      () => deliveriesOf(admin, hook.id),
      (items) => items[0]?.status === 'delivered',
    );
    expect(deliveries).toEqual([
      {
        eventId: payload.id,
        type: 'file.activated',
        at: expect.any(String),
        status: 'delivered',
        attempts: 1,
        lastError: null,
      },
    ]);
  });

  it('is retried after failures with the same event id, and the deliveries route shows the attempts', async () => {
    const key = newKey();
    await key.behave({ failTimes: 2, failStatus: 503 });
    const hook = await createHook(admin, key.url, ['file.updated']);
    const file = await activeFile(member, 'retried.csv');
    expect((await member.patch(`/v1/files/${file.id}`, { metadata: { stage: 'two' } })).status).toBe(200);
    const received = await eventually(key.received, (r) => r.length >= 3);
    expect(received).toHaveLength(3);
    const ids = received.map((r) => JSON.parse(r.body).id);
    expect(new Set(ids).size).toBe(1);
    // Backoff: the gaps grow (200 ms step doubling, jittered in its upper half).
    const gaps = [1, 2].map((i) => (received[i]?.at as number) - (received[i - 1]?.at as number));
    expect(gaps[0]).toBeGreaterThanOrEqual(90);
    expect(gaps[1]).toBeGreaterThanOrEqual(190);
    const [delivery] = await eventually(
      () => deliveriesOf(admin, hook.id),
      (items) => items[0]?.status === 'delivered',
    );
    expect(delivery).toMatchObject({
      eventId: ids[0],
      type: 'file.updated',
      status: 'delivered',
      attempts: 3,
      lastError: 'HTTP 503',
    });
  });

  it('is dead-lettered once the schedule has run out, and shown as dead', async () => {
    const key = newKey();
    await key.behave({ failTimes: 1000, failStatus: 500 });
    const hook = await createHook(admin, key.url, ['file.updated']);
    const file = await activeFile(member, 'dead.csv');
    await member.patch(`/v1/files/${file.id}`, { metadata: { stage: 'dead' } });
    const [delivery] = await eventually(
      () => deliveriesOf(admin, hook.id),
      (items) => items[0]?.status === 'dead',
      20_000,
    );
    expect(delivery).toMatchObject({ status: 'dead', lastError: 'HTTP 500' });
    expect(delivery.attempts).toBeGreaterThan(2);
    const received = await key.received();
    expect(received).toHaveLength(delivery.attempts);
    // The test schedule's span is 3 s, counted from the first attempt's start to the failure
    // that ends the last one: its request reaches the receiver a moment before that failure
    // returns (2,999 ms was seen under load), so arrivals are allowed 100 ms of that.
    expect((received.at(-1)?.at as number) - (received[0]?.at as number)).toBeGreaterThanOrEqual(2900);
    const settled = received.length;
    await new Promise((r) => setTimeout(r, 1500));
    expect(await key.received()).toHaveLength(settled);
    await admin.del(`/v1/webhooks/${hook.id}`);
  }, 30_000);

  it('that hangs does not slow the request that caused the event', async () => {
    const key = newKey();
    await key.behave({ hang: true });
    const hook = await createHook(admin, key.url, ['file.updated']);
    const file = await activeFile(member, 'hang.csv');
    const started = performance.now();
    const answer = await member.patch(`/v1/files/${file.id}`, { metadata: { slow: 'receiver' } });
    const elapsed = performance.now() - started;
    expect(answer.status).toBe(200);
    // The attempt's timeout is 1.5 s (test config): a request that waited for it would take longer.
    expect(elapsed).toBeLessThan(1000);
    const [delivery] = await eventually(
      () => deliveriesOf(admin, hook.id),
      (items) => items[0]?.lastError === 'timed out after 1500 ms',
    );
    expect(delivery).toMatchObject({ status: 'failed', lastError: 'timed out after 1500 ms' });
    await admin.del(`/v1/webhooks/${hook.id}`);
  });

  it('does not follow a redirect from the receiver', async () => {
    const key = newKey();
    const target = newKey();
    await key.behave({ redirectTo: target.url });
    const hook = await createHook(admin, key.url, ['file.activated']);
    await activeFile(member, 'redirected.csv');
    const [delivery] = await eventually(
      () => deliveriesOf(admin, hook.id),
      (items) => items[0]?.attempts >= 2,
    );
    expect(delivery).toMatchObject({ status: 'failed', lastError: 'HTTP 302' });
    expect((await key.received()).length).toBeGreaterThanOrEqual(2);
    expect(await target.received()).toEqual([]);
    await admin.del(`/v1/webhooks/${hook.id}`);
  });
});

describe('webhook URLs (API.md 13.7)', () => {
  let trap: Server;
  let trapPort = 0;
  let trapped = 0;
  beforeAll(async () => {
    trap = createServer((socket) => {
      trapped += 1;
      socket.destroy();
    });
    await new Promise<void>((done) => trap.listen(0, '127.0.0.1', done));
    trapPort = (trap.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((done) => trap.close(() => done())));

  it.each([
    () => `http://127.0.0.1:${trapPort}/hook`,
    () => `https://127.0.0.1:${trapPort}/hook`,
    () => 'https://[::1]/hook',
    () => 'https://169.254.169.254/latest/meta-data',
    () => 'https://[fd00:ec2::254]/hook',
    () => 'https://10.0.0.1/hook',
    () => 'https://192.168.1.20/hook',
    () => 'https://[fe80::1]/hook',
    () => 'https://0x7f.1/hook',
    () => 'https://localhost/hook', // a name: resolved, and it answers loopback
    () => 'http://hooks.example.com/hook', // plain http without the exemption
  ])('refuses %s with 400 VALIDATION_FAILED and keeps nothing', async (url) => {
    const answer = await admin.post('/v1/webhooks', { url: url(), events: ['file.activated'] });
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('VALIDATION_FAILED');
    const list = (await admin.get('/v1/webhooks')).body.items;
    expect(list.map((w: any) => w.url)).not.toContain(url());
  });

  it('refuses unknown event types and bad bodies', async () => {
    const key = newKey();
    for (const body of [
      { url: key.url, events: ['file.exploded'] },
      { url: key.url, events: [] },
      { url: key.url },
      { url: 'not a url', events: ['*'] },
      { url: key.url, events: ['*'], secret: 'mine' },
    ]) {
      const answer = await admin.post('/v1/webhooks', body);
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(answer.body.error.code).toBe('VALIDATION_FAILED');
    }
  });

  it('refuses a name that resolves to a private address, and never connects once it is rebound', async () => {
    // Prepare: a name that answers 10.0.0.7, and one that is public at creation and loopback later.
    let rebound = false;
    const resolver: HostResolver = {
      resolve: async (host) =>
        host === 'private.hooks.test'
          ? [{ address: '10.0.0.7', family: 4 }]
          : [{ address: rebound ? '127.0.0.1' : '93.184.216.34', family: 4 }],
    };
    const lines: string[] = [];
    const logger: Logger = {
      info: (m, f) => void lines.push(JSON.stringify([m, f])),
      warn: (m, f) => void lines.push(JSON.stringify([m, f])),
      error: (m, f) => void lines.push(JSON.stringify([m, f])),
    };
    const { app } = await composeSecondApp({ label: 'hookdns', resolver, logger });
    const actor: Actor = { tenantId: newTenant('dns'), userId: 'mallory', roles: ['admin'] };
    // Act / Assess: creation
    await expect(
      app.services.webhooks.create(actor, { url: 'https://private.hooks.test/x', events: ['*'] }),
    ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    const { webhook, secret } = await app.services.webhooks.create(actor, {
      url: `https://rebind.hooks.test:${trapPort}/x`,
      events: ['*'],
    });
    // Act / Assess: delivery after the name moved to loopback
    rebound = true;
    const dead: DeliveryMessage[] = [];
    const delivery = composeWebhookDelivery(app, { deadLetter: async (m) => void dead.push(m) });
    const message: DeliveryMessage = {
      tenantId: actor.tenantId,
      webhookId: webhook.id,
      eventId: '01JTESTEVENT0000000000000A',
      type: 'file.activated',
      body: '{}',
    };
    const outcome = await delivery.attempt(message);
    expect(outcome.kind).toBe('retry');
    expect(trapped).toBe(0);
    const record = await app.metadata.webhooks.getDelivery(actor.tenantId, webhook.id, message.eventId);
    expect(record).toMatchObject({
      status: 'failed',
      attempts: 1,
      lastError: 'refused: the address is not public (API.md 13.7)',
    });
    expect(lines.join('\n')).not.toContain(secret);
  });
});

describe('tenants and roles', () => {
  it("sends a tenant's events only to its own webhooks, and hides each tenant's webhooks from the other", async () => {
    const theirs = newKey();
    const mine = newKey();
    const theirHook = await createHook(stranger, theirs.url, ['*']);
    const myHook = await createHook(admin, mine.url, ['*']);
    const file = await activeFile(member, 'isolated.csv');
    const received = await eventually(mine.received, (r) =>
      r.some((x) => JSON.parse(x.body).type === 'file.activated'),
    );
    expect(received.some((r) => JSON.parse(r.body).file?.id === file.id)).toBe(true);
    expect(await theirs.received()).toEqual([]);
    for (const [method, path] of [
      ['GET', `/v1/webhooks/${theirHook.id}/deliveries`],
      ['DELETE', `/v1/webhooks/${theirHook.id}`],
    ] as const) {
      expect((await admin.call(method, path)).status).toBe(404);
    }
    expect((await admin.get('/v1/webhooks')).body.items.map((w: any) => w.id)).not.toContain(theirHook.id);
    await admin.del(`/v1/webhooks/${myHook.id}`);
    await stranger.del(`/v1/webhooks/${theirHook.id}`);
  });

  it('answers 403 to a non-admin on all four routes', async () => {
    const hook = await createHook(admin, newKey().url, ['file.deleted']);
    for (const answer of [
      await member.post('/v1/webhooks', { url: newKey().url, events: ['*'] }),
      await member.get('/v1/webhooks'),
      await member.del(`/v1/webhooks/${hook.id}`),
      await member.get(`/v1/webhooks/${hook.id}/deliveries`),
    ]) {
      expect(answer.status).toBe(403);
      expect(answer.body.error.code).toBe('FORBIDDEN');
    }
    await admin.del(`/v1/webhooks/${hook.id}`);
  });
});

describe('the web client', () => {
  it('creates, lists, reads the deliveries of and deletes a webhook; a member gets FORBIDDEN', async () => {
    const tenantId = newTenant('hookc');
    const as = (roles: string[]) =>
      createStowageClient({
        baseUrl: inject('apiUrl'),
        getToken: () => mintDevToken({ tenantId, userId: 'carol', roles }),
      });
    const api = as(['admin']);
    const key = newKey();
    const created = await api.createWebhook({ url: key.url, events: ['*'] });
    expect(created.secret).toMatch(/^whsec_/);
    expect(await api.listWebhooks()).toEqual([
      { id: created.id, url: key.url, events: ['*'], createdAt: created.createdAt },
    ]);
    expect(await api.listWebhookDeliveries(created.id)).toEqual({ items: [], nextCursor: null });
    await expect(as(['member']).listWebhooks()).rejects.toMatchObject({ status: 403, code: 'FORBIDDEN' });
    await api.deleteWebhook(created.id);
    expect(await api.listWebhooks()).toEqual([]);
    await expect(api.deleteWebhook(created.id)).rejects.toBeInstanceOf(StowageApiError);
  });
});
