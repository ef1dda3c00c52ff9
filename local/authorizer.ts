import { createRemoteJWKSet, type JWTPayload, jwtVerify } from 'jose';
import { unauthenticated } from '../shared/domain/errors.js';

export type AuthorizerOptions =
  | { kind: 'dev'; secret: string }
  | { kind: 'jwks'; jwksUrl: string; issuer: string; audience?: string };

/**
 * What API Gateway's JWT authorizer does, for the local stack: verify the bearer token and
 * hand the claims on as strings (arrays flattened to `[a b]`, as API Gateway does). Only the
 * algorithms of the configured mode are accepted, so `alg: none` and algorithm swaps fail.
 */
export function createLocalAuthorizer(opts: AuthorizerOptions) {
  const verify =
    opts.kind === 'dev'
      ? (token: string) =>
          jwtVerify(token, new TextEncoder().encode(opts.secret), { algorithms: ['HS256'] }).then(
            (r) => r.payload,
          )
      : (() => {
          const keys = createRemoteJWKSet(new URL(opts.jwksUrl));
          return (token: string) =>
            jwtVerify(token, keys, {
              algorithms: ['RS256', 'ES256'],
              issuer: opts.issuer,
              ...(opts.audience ? { audience: opts.audience } : {}),
            }).then((r) => r.payload);
        })();

  return async (authorization: string | undefined): Promise<Record<string, string>> => {
    const match = /^Bearer ([A-Za-z0-9_.~+/=-]+)$/.exec(authorization ?? '');
    if (!match) throw unauthenticated();
    let payload: JWTPayload;
    try {
      payload = await verify(match[1] as string);
    } catch {
      throw unauthenticated('The token is invalid or expired.');
    }
    return flattenClaims(payload);
  };
}

function flattenClaims(payload: JWTPayload): Record<string, string> {
  const claims: Record<string, string> = {};
  for (const [name, value] of Object.entries(payload)) {
    if (Array.isArray(value)) claims[name] = `[${value.join(' ')}]`;
    else if (value !== null && typeof value === 'object') claims[name] = JSON.stringify(value);
    else if (value !== undefined) claims[name] = String(value);
  }
  return claims;
}
