import { SignJWT } from 'jose';

export const DEFAULT_DEV_SECRET = 'local-dev-secret';

export interface DevTokenInput {
  tenantId: string;
  userId: string;
  roles: string[];
  secret?: string;
  /** Seconds; default one hour. */
  expiresIn?: number;
  claimNames?: { tenantClaim: string; rolesClaim: string };
}

/** An HS256 token for the local stack, signed with FILESTORE_DEV_JWT_SECRET. */
export function mintDevToken(input: DevTokenInput): Promise<string> {
  const names = input.claimNames ?? { tenantClaim: 'tenant_id', rolesClaim: 'roles' };
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ [names.tenantClaim]: input.tenantId, [names.rolesClaim]: input.roles })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(input.userId)
    .setIssuedAt(now)
    .setExpirationTime(now + (input.expiresIn ?? 3600))
    .sign(new TextEncoder().encode(input.secret ?? DEFAULT_DEV_SECRET));
}
