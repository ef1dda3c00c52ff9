import { SignJWT } from 'jose';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { mintDevToken } from '../../local/dev-token.js';
import { type Client, client, newTenant } from '../support/api.js';

let admin: Client;
let member: Client;
let viewer: Client;
let bucketId: string;
const base = () => inject('apiUrl');

beforeAll(async () => {
  const tenant = newTenant('bad');
  admin = await client(tenant, 'alice', ['admin']);
  member = await client(tenant, 'bob', ['member']);
  viewer = await client(tenant, 'vic', ['viewer']);
  bucketId = (await admin.post('/v1/buckets', { name: 'B' })).body.id;
});

const expectError = (res: { status: number; body: any }, status: number, code: string) => {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.body.error.code).toBe(code);
  expect(typeof res.body.error.message).toBe('string');
  expect(JSON.stringify(res.body)).not.toMatch(/at .*\.(ts|js):\d+/);
};

describe('authentication', () => {
  const raw = (headers: Record<string, string>) =>
    fetch(`${base()}/v1/buckets`, { headers }).then(async (r) => ({
      status: r.status,
      body: await r.json(),
    }));

  it('401s missing, malformed, forged, expired and tenantless tokens', async () => {
    const now = Math.floor(Date.now() / 1000);
    const secret = new TextEncoder().encode('local-dev-secret');
    const sign = (claims: Record<string, unknown>, key = secret) =>
      new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(key);
    const header = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const cases: Record<string, string | undefined> = {
      missing: undefined,
      notBearer: 'Basic abc',
      garbage: 'Bearer not.a.token',
      forged: `Bearer ${await sign({ sub: 'a', tenant_id: 't', roles: ['admin'] }, new TextEncoder().encode('wrong'))}`,
      expired: `Bearer ${await sign({ sub: 'a', tenant_id: 't', roles: ['admin'], exp: now - 10 })}`,
      notYetValid: `Bearer ${await sign({ sub: 'a', tenant_id: 't', roles: ['admin'], nbf: now + 3600 })}`,
      noTenant: `Bearer ${await sign({ sub: 'a', roles: ['admin'] })}`,
      badTenant: `Bearer ${await sign({ sub: 'a', tenant_id: 'T#other', roles: ['admin'] })}`,
      algNone: `Bearer ${header({ alg: 'none' })}.${header({ sub: 'a', tenant_id: 't', roles: ['admin'] })}.`,
    };
    for (const [name, value] of Object.entries(cases)) {
      const res = await raw(value ? { authorization: value } : {});
      expect(res.status, name).toBe(401);
      expect(res.body.error.code, name).toBe('UNAUTHENTICATED');
    }
  });

  it('403s a token with none of the roles', async () => {
    const token = await mintDevToken({ tenantId: 't', userId: 'u', roles: ['superuser'] });
    expectError(await raw({ authorization: `Bearer ${token}` }), 403, 'FORBIDDEN');
  });
});

describe('routing', () => {
  it('404s unknown paths and 405s known paths with the wrong method', async () => {
    expectError(await admin.get('/v1/nothing-here'), 404, 'NOT_FOUND');
    const res = await admin.call('PATCH', '/v1/files');
    expectError(res, 405, 'METHOD_NOT_ALLOWED');
    expect(res.headers.get('allow')).toBe('GET');
  });
});

describe('validation', () => {
  const upload = (body: unknown) => member.call('POST', `/v1/buckets/${bucketId}/uploads`, body);

  it.each([
    ['malformed JSON', '{"filename": '],
    ['an array', '[]'],
    ['unknown field', { filename: 'a', contentType: 'text/plain', size: 1, color: 'red' }],
    ['missing size', { filename: 'a', contentType: 'text/plain' }],
    ['negative size', { filename: 'a', contentType: 'text/plain', size: -1 }],
    ['fractional size', { filename: 'a', contentType: 'text/plain', size: 1.5 }],
    ['huge size', { filename: 'a', contentType: 'text/plain', size: 1e300 }],
    ['string size', { filename: 'a', contentType: 'text/plain', size: '10' }],
    ['bad sha256', { filename: 'a', contentType: 'text/plain', size: 1, sha256: 'abc' }],
    ['bad content type', { filename: 'a', contentType: 'text', size: 1 }],
    ['header injection in type', { filename: 'a', contentType: 'text/plain\r\nx: y', size: 1 }],
    ['slash in filename', { filename: '../../etc/passwd', contentType: 'text/plain', size: 1 }],
    ['NUL in filename', { filename: 'a\u0000.pdf', contentType: 'text/plain', size: 1 }],
    ['RTL override in filename', { filename: 'cod\u202Eexe.pdf', contentType: 'text/plain', size: 1 }],
    ['empty filename', { filename: '  ', contentType: 'text/plain', size: 1 }],
    ['long filename', { filename: 'x'.repeat(256), contentType: 'text/plain', size: 1 }],
    [
      'bad reference id',
      {
        filename: 'a',
        contentType: 'text/plain',
        size: 1,
        references: [{ entityType: 'ticket', entityId: 'T/1' }],
      },
    ],
  ])('400s %s, and stores nothing', async (_, body) => {
    const before = (await admin.get('/v1/quota')).body;
    expectError(await upload(body), 400, 'VALIDATION_FAILED');
    expect((await admin.get('/v1/quota')).body).toEqual(before);
  });

  it('400s bad query parameters and ids', async () => {
    for (const q of [
      'limit=0',
      'limit=1001',
      'limit=abc',
      'status=gone',
      'colour=red',
      'entityType=ticket',
      'cursor=%%%',
      'mimeType=nope',
    ])
      expectError(await member.get(`/v1/files?${q}`), 400, 'VALIDATION_FAILED');
    expectError(await member.get('/v1/files/has%20space'), 400, 'VALIDATION_FAILED');
    expectError(await member.get(`/v1/files/${'x'.repeat(65)}`), 400, 'VALIDATION_FAILED');
    // empty values count as absent
    expect((await member.get('/v1/files?limit=&status=')).status).toBe(200);
  });

  it('checks the role before the input, and the input before existence', async () => {
    expectError(await viewer.call('POST', `/v1/buckets/${bucketId}/uploads`, '{nonsense'), 403, 'FORBIDDEN');
    expectError(
      await member.call('POST', '/v1/buckets/NOPE/uploads', { filename: 'a' }),
      400,
      'VALIDATION_FAILED',
    );
    expectError(
      await member.call('POST', '/v1/buckets/NOPE/uploads', {
        filename: 'a',
        contentType: 'text/plain',
        size: 1,
      }),
      404,
      'NOT_FOUND',
    );
  });

  it('400s an oversized body', async () => {
    const res = await member.call(
      'POST',
      `/v1/buckets/${bucketId}/uploads`,
      JSON.stringify({ filename: 'a'.repeat(3 * 1024 * 1024) }),
    );
    expectError(res, 400, 'VALIDATION_FAILED');
  });
});
