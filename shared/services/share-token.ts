import { createHash, randomBytes } from 'node:crypto';
import { ID_PATTERN } from '../domain/ids.js';

/**
 * Share-link tokens (API.md 13.4): `{tenantId}.{secret}`, the secret 32 random bytes (256 bits)
 * in base64url. The tenant travels in the clear so the lookup key can start with it, as every
 * key does (DESIGN.md: IAM LeadingKeys, the per-tenant session): a public request is then held
 * to the tenant its token names. Tenant ids are not secrets (every JWT carries one); the secret
 * part is what cannot be guessed. Only the SHA-256 of the whole token is stored.
 */
const SECRET_BYTES = 32;
const SECRET = /^[A-Za-z0-9_-]{43}$/;

export function newShareToken(tenantId: string): { token: string; tokenHash: string } {
  const token = `${tenantId}.${randomBytes(SECRET_BYTES).toString('base64url')}`;
  return { token, tokenHash: hashShareToken(token) };
}

export const hashShareToken = (token: string) => createHash('sha256').update(token, 'utf8').digest('hex');

/** The tenant a well-formed token names; null for anything else (answered 404, like an unknown one). */
export function shareTokenTenant(token: string): string | null {
  if (token.length > 64 + 1 + 43) return null;
  const dot = token.lastIndexOf('.');
  if (dot < 1) return null;
  const tenantId = token.slice(0, dot);
  return ID_PATTERN.test(tenantId) && SECRET.test(token.slice(dot + 1)) ? tenantId : null;
}
