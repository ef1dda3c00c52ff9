import { unauthenticated } from '../../shared/domain/errors.js';
import { isId, isUserId } from '../../shared/domain/ids.js';
import { type Actor, ROLES, type Role } from '../../shared/domain/model.js';

export interface ClaimNames {
  tenantClaim: string;
  rolesClaim: string;
}

/**
 * Verified JWT claims → the caller. In AWS the API Gateway JWT authorizer verified the token
 * and passes claims as strings (arrays flattened to `[a b]`); the local stack does the same.
 * Claims are the only source of tenant and roles.
 */
export function actorFromClaims(claims: Record<string, unknown> | undefined, names: ClaimNames): Actor {
  if (!claims) throw unauthenticated();
  const tenantId = claims[names.tenantClaim];
  const userId = claims.sub;
  if (!isId(tenantId)) throw unauthenticated('The token has no valid tenant claim.');
  if (!isUserId(userId)) throw unauthenticated('The token has no valid subject.');
  return { tenantId, userId, roles: parseRoles(claims[names.rolesClaim]) };
}

export function parseRoles(raw: unknown): Role[] {
  const words = Array.isArray(raw)
    ? raw.filter((r): r is string => typeof r === 'string')
    : typeof raw === 'string'
      ? raw.replace(/^\[|\]$/g, '').split(/[\s,]+/)
      : [];
  return ROLES.filter((role) => words.includes(role));
}
