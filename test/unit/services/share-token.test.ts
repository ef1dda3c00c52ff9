import { describe, expect, it } from 'vitest';
import { hashShareToken, newShareToken, shareTokenTenant } from '../../../shared/services/share-token.js';

describe('share-link tokens', () => {
  it('carry 256 random bits after their tenant and are stored as a SHA-256', () => {
    const tokens = Array.from({ length: 200 }, () => newShareToken('acme'));
    expect(new Set(tokens.map((t) => t.token)).size).toBe(200);
    for (const { token, tokenHash } of tokens) {
      expect(token).toMatch(/^acme\.[A-Za-z0-9_-]{43}$/);
      expect(Buffer.from(token.slice(5), 'base64url')).toHaveLength(32);
      expect(tokenHash).toBe(hashShareToken(token));
      expect(tokenHash).toMatch(/^[0-9a-f]{64}$/);
      expect(tokenHash).not.toContain(token.slice(5));
    }
  });

  it.each([
    ['acme.' + 'A'.repeat(43), 'acme'],
    ['my_tenant-1.' + 'b'.repeat(43), 'my_tenant-1'],
    ['acme.' + 'A'.repeat(42), null],
    ['acme.' + 'A'.repeat(44), null],
    ['.' + 'A'.repeat(43), null],
    ['A'.repeat(43), null],
    ['ac/me.' + 'A'.repeat(43), null],
    ['acme.' + 'A'.repeat(42) + '=', null],
    ['a'.repeat(65) + '.' + 'A'.repeat(43), null],
    ['', null],
  ])('%s names tenant %s', (token, tenant) => {
    expect(shareTokenTenant(token)).toBe(tenant);
  });
});
