import { describe, expect, it } from 'vitest';
import { actorFromRequest, parseRoles } from '../../../functions/api/claims.js';

const names = { tenantClaim: 'tenant_id', rolesClaim: 'roles' };

/** A JWT as the authorizer saw it (the signature is the authorizer's business, not checked here). */
const jwt = (payload: Record<string, unknown>) =>
  `eyJhbGciOiJIUzI1NiJ9.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.c2ln`;

/** What API Gateway's JWT authorizer (and the local one) passes on: strings, arrays as `[a b]`. */
function flatten(payload: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(payload).map(([k, v]) => [k, Array.isArray(v) ? `[${v.join(' ')}]` : String(v)]),
  );
}

/** A request as the Lambda gets it: the verified header and its flattened claims. */
const request = (payload: Record<string, unknown>) => ({
  claims: flatten(payload),
  authorization: `Bearer ${jwt(payload)}`,
});

const unauthenticated = expect.objectContaining({ code: 'UNAUTHENTICATED' });

describe('roles', () => {
  it.each([
    [
      ['admin', 'member'],
      ['admin', 'member'],
    ],
    [['viewer'], ['viewer']],
    [['viewer admin'], []], // one IdP group with a space is not two roles
    [['viewer,admin'], []],
    [[['admin']], []], // nested
    [['admin', ['member']], []], // an array holding anything but strings grants nothing
    [[' admin'], []],
    [['Admin'], []],
    [['superuser'], []],
    ['viewer admin', ['admin', 'viewer']], // a string: names separated by spaces (API.md section 1)
    ['admin,member', ['admin', 'member']],
    ['member, viewer', ['member', 'viewer']],
    ['[admin]', []], // a string is a string, brackets and all
    [undefined, []],
    [42, []],
    [{ admin: true }, []],
  ])('%j → %j', (raw, roles) => expect(parseRoles(raw)).toEqual(roles));
});

describe('actorFromRequest, from the verified token itself', () => {
  const base = { sub: 'alice', tenant_id: 'acme' };

  it.each([
    [['admin'], ['admin']],
    [
      ['viewer', 'admin'],
      ['admin', 'viewer'],
    ],
    [['viewer admin'], []], // flattened, this is "[viewer admin]", as ["viewer","admin"] is
    [[['admin']], []],
    ['viewer admin', ['admin', 'viewer']],
  ])('roles %j in the token → %j', (roles, expected) => {
    expect(actorFromRequest(request({ ...base, roles }), names)).toEqual({
      tenantId: 'acme',
      userId: 'alice',
      roles: expected,
    });
  });

  it('reads the configured claim names (Cognito groups)', () => {
    const cognito = { tenantClaim: 'custom:tenant_id', rolesClaim: 'cognito:groups' };
    const payload = { sub: 'alice', 'custom:tenant_id': 'acme', 'cognito:groups': ['admin'] };
    expect(actorFromRequest(request(payload), cognito)).toEqual({
      tenantId: 'acme',
      userId: 'alice',
      roles: ['admin'],
    });
  });

  it('takes a bare token too (API Gateway accepts one without "Bearer ")', () => {
    const payload = { ...base, roles: ['member'] };
    expect(actorFromRequest({ claims: flatten(payload), authorization: jwt(payload) }, names).roles).toEqual([
      'member',
    ]);
  });

  it.each([
    ['another subject', { ...base, sub: 'mallory', roles: ['admin'] }],
    ['another tenant', { ...base, tenant_id: 'other', roles: ['admin'] }],
    ['more roles', { ...base, roles: ['viewer', 'admin'] }],
    ['a string instead', { ...base, roles: 'viewer admin' }],
  ])('refuses a header whose token differs from the verified claims (%s)', (_, inHeader) => {
    const verified = flatten({ ...base, roles: ['viewer'] });
    expect(() =>
      actorFromRequest({ claims: verified, authorization: `Bearer ${jwt(inHeader)}` }, names),
    ).toThrow(unauthenticated);
  });

  it.each([
    'Bearer not-a-jwt',
    `Bearer ${jwt({ ...base, roles: ['viewer'] })},Bearer ${jwt({ ...base, roles: ['admin'] })}`,
    `Bearer ${jwt({ ...base, roles: ['viewer'] })} ${jwt({ ...base, roles: ['admin'] })}`,
    'Bearer a.bm90IGpzb24.c',
    `Bearer a.${Buffer.from('[1,2]').toString('base64url')}.c`,
  ])('refuses an Authorization header that is not one token: %s', (authorization) => {
    expect(() =>
      actorFromRequest({ claims: flatten({ ...base, roles: ['viewer'] }), authorization }, names),
    ).toThrow(unauthenticated);
  });
});

describe('actorFromRequest without the header (a direct invocation)', () => {
  it.each([
    ['[admin member]', ['admin', 'member']],
    ['[admin]', ['admin']],
    ['member, viewer', ['member', 'viewer']],
    ['viewer admin', ['admin', 'viewer']],
    [undefined, []],
  ])('reads the flattened claim %j as %j', (roles, expected) => {
    const claims = { sub: 'alice', tenant_id: 'acme', ...(roles === undefined ? {} : { roles }) };
    expect(actorFromRequest({ claims }, names).roles).toEqual(expected);
  });
});

describe('who may be the caller', () => {
  it.each([
    [{ sub: 'alice', roles: 'admin' }, 'no tenant'],
    [{ sub: 'alice', tenant_id: 'ac/me', roles: 'admin' }, 'tenant with a slash'],
    [{ sub: 'alice', tenant_id: 'T#x', roles: 'admin' }, 'tenant with a #'],
    [{ sub: 'alice', tenant_id: 'a'.repeat(65), roles: 'admin' }, 'tenant too long'],
    [{ tenant_id: 'acme', roles: 'admin' }, 'no subject'],
    [{ sub: 'bad\nuser', tenant_id: 'acme', roles: 'admin' }, 'control character in subject'],
  ] as [Record<string, unknown>, string][])('%j (%s) is UNAUTHENTICATED', (claims) => {
    expect(() => actorFromRequest({ claims }, names)).toThrow(unauthenticated);
    expect(() => actorFromRequest({ claims: undefined }, names)).toThrow(unauthenticated);
  });

  it.each(['system', 'SYSTEM', ' system ', 'System', 'system:cron', 'link:01JABC', 'Link:x', 'link:'])(
    'refuses the service’s own actor %j as a subject, with or without the header',
    (sub) => {
      const payload = { sub, tenant_id: 'acme', roles: ['admin'] };
      expect(() => actorFromRequest(request(payload), names)).toThrow(unauthenticated);
      expect(() => actorFromRequest({ claims: flatten(payload) }, names)).toThrow(unauthenticated);
    },
  );

  it.each(['systems', 'sys', 'alice:system', 'linker', 'auth0|system', 'user-link:1'])(
    'accepts %j, which only looks alike',
    (sub) => {
      expect(actorFromRequest(request({ sub, tenant_id: 'acme', roles: ['viewer'] }), names).userId).toBe(
        sub,
      );
    },
  );
});
