import { describe, expect, inject, it } from 'vitest';
import { mintDevToken } from '../../local/dev-token.js';
import { client, newTenant } from '../support/api.js';

/**
 * Who the caller is, attacked with real tokens through the running stack (its authorizer
 * flattens array claims to `[a b]`, as API Gateway's does): roles are whole names, the
 * service's own audit actors cannot be a token's subject, and a known path's other methods
 * answer 401 before 405 (API.md sections 0, 1, 11).
 */

const tenant = newTenant('id');

async function call(method: string, path: string, token?: string, body?: unknown) {
  const res = await fetch(`${inject('apiUrl')}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, allow: res.headers.get('allow') };
}

/** A dev token whose roles claim is exactly `roles`, whatever its JSON shape. */
const tokenWith = (roles: unknown, userId = 'mallory') =>
  mintDevToken({ tenantId: tenant, userId, roles: roles as string[] });

let made = 0;
const createBucket = async (token: string) => {
  made += 1;
  return call('POST', '/v1/buckets', token, { name: `identity bucket ${made}` });
};

describe('roles are whole names', () => {
  it.each([
    [['viewer admin'], 'one group whose name holds a space'],
    [['admin member'], 'another'],
    [['viewer,admin'], 'one group whose name holds a comma'],
    [[['admin']], 'a nested array'],
    [['Admin'], 'another case'],
  ] as [unknown, string][])('%j (%s) grants no role: 403 on every route', async (roles) => {
    const token = await tokenWith(roles);
    const bucket = await createBucket(token);
    expect(bucket.status).toBe(403);
    expect(bucket.body.error.code).toBe('FORBIDDEN');
    expect((await call('GET', '/v1/quota', token)).status).toBe(403);
  });

  it('an array of exact names grants exactly those', async () => {
    expect((await createBucket(await tokenWith(['viewer', 'admin']))).status).toBe(201);
    expect((await createBucket(await tokenWith(['viewer']))).status).toBe(403);
    expect((await call('GET', '/v1/quota', await tokenWith(['viewer']))).status).toBe(200);
  });

  it('a string keeps the contract’s meaning: names separated by spaces or commas', async () => {
    expect((await createBucket(await tokenWith('viewer admin'))).status).toBe(201);
    expect((await createBucket(await tokenWith('member,admin'))).status).toBe(201);
    expect((await createBucket(await tokenWith('viewer member'))).status).toBe(403);
  });
});

describe('the service’s own actor', () => {
  it.each(['system', 'SYSTEM', 'system:maintenance', 'link:01JABCDEFGHJKMNPQRSTVWXYZ0'])(
    'cannot be a token’s subject (%s): 401, and nothing written in its name',
    async (sub) => {
      const token = await tokenWith(['admin'], sub);
      const answer = await createBucket(token);
      expect(answer.status).toBe(401);
      expect(answer.body.error.code).toBe('UNAUTHENTICATED');
      expect((await call('GET', '/v1/events', token)).status).toBe(401);
    },
  );

  it('has written nothing in its name on those tokens’ behalf', async () => {
    const admin = await client(tenant, 'alice', ['admin']);
    const events = await admin.get('/v1/events?limit=1000');
    expect(events.status).toBe(200);
    // Only alice acted in this tenant through the API; nothing claims to be the service.
    const actors = new Set(events.body.items.map((e: { actor: string }) => e.actor));
    expect([...actors].filter((a) => a !== 'mallory' && a !== 'alice')).toEqual([]);
  });
});

describe('a known path with another method', () => {
  it.each([
    ['POST', '/v1/health'],
    ['DELETE', '/v1/quota'],
    ['PATCH', '/v1/providers'],
    ['PUT', '/v1/openapi.json'],
    ['POST', '/v1/files/01JABCDEFGHJKMNPQRSTVWXYZ0/download'],
  ])('%s %s answers 401 without a token, 405 with Allow to an authenticated caller', async (method, path) => {
    const anonymous = await call(method, path);
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error.code).toBe('UNAUTHENTICATED');
    const authenticated = await call(method, path, await tokenWith(['viewer'], 'alice'));
    expect(authenticated.status).toBe(405);
    expect(authenticated.body.error.code).toBe('METHOD_NOT_ALLOWED');
    expect(authenticated.allow).toBeTruthy();
  });

  it('leaves health and the OpenAPI document open', async () => {
    expect((await call('GET', '/v1/health')).status).toBe(200);
    expect((await call('GET', '/v1/openapi.json')).status).toBe(200);
  });
});
