import { unauthenticated } from '../../shared/domain/errors.js';
import { isId, isUserId } from '../../shared/domain/ids.js';
import { type Actor, isReservedActor, ROLES, type Role } from '../../shared/domain/model.js';

export interface ClaimNames {
  tenantClaim: string;
  rolesClaim: string;
}

export interface VerifiedRequest {
  /** The claims of the verified token, as the authorizer passes them (strings, arrays flattened). */
  claims: Record<string, unknown> | undefined;
  /** The `Authorization` header the authorizer verified, when the event carries it. */
  authorization?: string;
}

/**
 * The caller, from a request whose token the authorizer verified: the one place both AWS and
 * the local stack read identity. API Gateway's JWT authorizer (and the local one, which mimics
 * it) hands claims on as strings, arrays flattened to `[a b]`, so `["viewer admin"]` and
 * `["viewer", "admin"]` look alike there. The roles are therefore read from the token itself:
 * its payload is decoded (not verified again: the authorizer verified this very header) and
 * must agree with the verified claims on subject, tenant and roles, or the request is refused.
 * Only an event without the header (a direct invocation) falls back to the flattened claim.
 */
export function actorFromRequest(request: VerifiedRequest, names: ClaimNames): Actor {
  const { claims } = request;
  if (!claims) throw unauthenticated();
  const tenantId = claims[names.tenantClaim];
  const userId = claims.sub;
  if (!isId(tenantId)) throw unauthenticated('The token has no valid tenant claim.');
  if (!isUserId(userId)) throw unauthenticated('The token has no valid subject.');
  // `system` and `link:{id}` are the service's own audit actors (API.md sections 11, 13.4).
  if (isReservedActor(userId)) throw unauthenticated('The token names a subject reserved for the service.');

  if (request.authorization === undefined)
    return { tenantId, userId, roles: parseRoles(flattenedRoles(claims[names.rolesClaim])) };
  const payload = decodePayload(request.authorization);
  const roles = payload?.[names.rolesClaim];
  if (
    !payload ||
    !sameScalar(payload.sub, userId) ||
    !sameScalar(payload[names.tenantClaim], tenantId) ||
    !sameRoles(roles, claims[names.rolesClaim])
  )
    throw unauthenticated('The token does not match its verified claims.');
  return { tenantId, userId, roles: parseRoles(roles) };
}

/**
 * Roles as the contract writes them (API.md section 1): an array whose elements are each
 * exactly a role name (`"viewer admin"` or `" admin"` is not a role, and an array holding
 * anything but strings, `[["admin"]]` say, grants none), or a string of names separated by
 * commas or spaces.
 */
export function parseRoles(raw: unknown): Role[] {
  const names = Array.isArray(raw)
    ? raw.every((r) => typeof r === 'string')
      ? raw
      : []
    : typeof raw === 'string'
      ? raw.split(/[\s,]+/)
      : [];
  return ROLES.filter((role) => names.includes(role));
}

/** A flattened `[a b]` claim, read as the array it was (its elements cannot hold spaces). */
function flattenedRoles(raw: unknown): unknown {
  if (typeof raw !== 'string') return raw;
  const inner = /^\[(.*)\]$/s.exec(raw)?.[1];
  return inner === undefined ? raw : inner.split(' ').filter((r) => r !== '');
}

/** A scalar claim as the authorizer passes it: as a string. */
const sameScalar = (fromToken: unknown, verified: string): boolean =>
  (typeof fromToken === 'string' || typeof fromToken === 'number') && String(fromToken) === verified;

/**
 * The roles claim against its flattened form: a string as it is, an array of strings as
 * `[a b]`. Other shapes grant no role (parseRoles), and how they flatten is not ours to guess.
 */
function sameRoles(fromToken: unknown, verified: unknown): boolean {
  if (fromToken === undefined) return verified === undefined || verified === null;
  if (typeof fromToken === 'string') return fromToken === verified;
  if (Array.isArray(fromToken) && fromToken.every((r) => typeof r === 'string'))
    return verified === `[${fromToken.join(' ')}]`;
  return true;
}

/** The payload of `Bearer <jwt>` (or a bare JWT, which API Gateway also accepts); null if not one. */
function decodePayload(authorization: string): Record<string, unknown> | null {
  const match = /^(?:Bearer )?[A-Za-z0-9_-]+\.([A-Za-z0-9_-]+)\.[A-Za-z0-9_-]*$/i.exec(authorization.trim());
  if (!match) return null;
  try {
    const payload: unknown = JSON.parse(Buffer.from(match[1] as string, 'base64url').toString('utf8'));
    return payload !== null && typeof payload === 'object' && !Array.isArray(payload)
      ? (payload as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}
