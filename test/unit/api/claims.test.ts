import { describe, expect, it } from 'vitest';
import { actorFromClaims, parseRoles } from '../../../functions/api/claims.js';

const names = { tenantClaim: 'tenant_id', rolesClaim: 'roles' };

describe('claims → actor', () => {
  it.each([
    [
      ['admin', 'member'],
      ['admin', 'member'],
    ],
    ['[admin member]', ['admin', 'member']],
    ['member, viewer', ['member', 'viewer']],
    ['viewer', ['viewer']],
    ['superuser', []],
    [undefined, []],
    [42, []],
  ])('roles %j → %j', (raw, roles) => expect(parseRoles(raw)).toEqual(roles));

  it('reads tenant, user and roles from the configured claims', () => {
    expect(
      actorFromClaims(
        { sub: 'alice', 'custom:tenant_id': 'acme', 'cognito:groups': '[admin]' },
        {
          tenantClaim: 'custom:tenant_id',
          rolesClaim: 'cognito:groups',
        },
      ),
    ).toEqual({ tenantId: 'acme', userId: 'alice', roles: ['admin'] });
  });

  it.each([
    [{ sub: 'alice', roles: 'admin' }, 'no tenant'],
    [{ sub: 'alice', tenant_id: 'ac/me', roles: 'admin' }, 'tenant with a slash'],
    [{ sub: 'alice', tenant_id: 'T#x', roles: 'admin' }, 'tenant with a #'],
    [{ sub: 'alice', tenant_id: 'a'.repeat(65), roles: 'admin' }, 'tenant too long'],
    [{ tenant_id: 'acme', roles: 'admin' }, 'no subject'],
    [{ sub: 'bad\nuser', tenant_id: 'acme', roles: 'admin' }, 'control character in subject'],
  ] as [Record<string, unknown>, string][])('%j (%s) is UNAUTHENTICATED', (claims) => {
    expect(() => actorFromClaims(claims, names)).toThrow(
      expect.objectContaining({ code: 'UNAUTHENTICATED' }),
    );
  });
});
