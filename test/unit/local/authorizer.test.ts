import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalAuthorizer } from '../../../local/authorizer.js';

const ISSUER = 'https://issuer.example.test';
const AUDIENCE = 'stowage-api';
const now = () => Math.floor(Date.now() / 1000);

let server: Server;
let jwksUrl: string;
let rsa: CryptoKey;
let ec: CryptoKey;
let stranger: CryptoKey; // a key the JWKS does not publish

beforeAll(async () => {
  const [r, e, s] = await Promise.all([
    generateKeyPair('RS256'),
    generateKeyPair('ES256'),
    generateKeyPair('RS256'),
  ]);
  rsa = r.privateKey;
  ec = e.privateKey;
  stranger = s.privateKey;
  const keys: JWK[] = [
    { ...(await exportJWK(r.publicKey)), kid: 'rsa', alg: 'RS256', use: 'sig' },
    { ...(await exportJWK(e.publicKey)), kid: 'ec', alg: 'ES256', use: 'sig' },
  ];
  // A real JWKS endpoint on loopback, as an identity provider would serve it.
  server = createServer((_, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys }));
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
});

afterAll(() => new Promise<void>((done) => server.close(() => done())));

const claims = { tenant_id: 'acme', 'cognito:groups': ['admin', 'member'] };

function sign(
  key: CryptoKey | Uint8Array,
  alg: string,
  kid: string,
  overrides: { iss?: string; aud?: string; exp?: number; nbf?: number } = {},
) {
  const jwt = new SignJWT(claims)
    .setProtectedHeader({ alg, kid })
    .setSubject('alice')
    .setIssuer(overrides.iss ?? ISSUER)
    .setAudience(overrides.aud ?? AUDIENCE)
    .setExpirationTime(overrides.exp ?? now() + 300);
  if (overrides.nbf) jwt.setNotBefore(overrides.nbf);
  return jwt.sign(key);
}

describe('local authorizer with a JWKS (self-hosting with a real identity provider)', () => {
  const authorize = () =>
    createLocalAuthorizer({ kind: 'jwks', jwksUrl, issuer: ISSUER, audience: AUDIENCE });

  it('accepts RS256 and ES256 tokens of the issuer and flattens array claims as API Gateway does', async () => {
    const verify = authorize();
    for (const token of [await sign(rsa, 'RS256', 'rsa'), await sign(ec, 'ES256', 'ec')]) {
      const out = await verify(`Bearer ${token}`);
      expect(out).toMatchObject({
        sub: 'alice',
        tenant_id: 'acme',
        'cognito:groups': '[admin member]',
        iss: ISSUER,
      });
    }
  });

  it.each([
    ['another issuer', async () => sign(rsa, 'RS256', 'rsa', { iss: 'https://evil.example.test' })],
    ['another audience', async () => sign(rsa, 'RS256', 'rsa', { aud: 'someone-else' })],
    ['expired', async () => sign(rsa, 'RS256', 'rsa', { exp: now() - 60 })],
    ['not yet valid', async () => sign(rsa, 'RS256', 'rsa', { nbf: now() + 3600 })],
    ['a key the issuer does not publish', async () => sign(stranger, 'RS256', 'rsa')],
    // a symmetric algorithm the issuer never uses: algorithm confusion must not get through
    [
      'HS256 instead of RS256',
      async () => sign(new TextEncoder().encode(JSON.stringify(claims)), 'HS256', 'rsa'),
    ],
    [
      'alg none',
      async () =>
        `${Buffer.from(JSON.stringify({ alg: 'none', kid: 'rsa' })).toString('base64url')}.${Buffer.from(
          JSON.stringify({ ...claims, sub: 'alice', iss: ISSUER, aud: AUDIENCE, exp: now() + 300 }),
        ).toString('base64url')}.`,
    ],
  ])('refuses a token from %s with UNAUTHENTICATED', async (_, make) => {
    await expect(authorize()(`Bearer ${await make()}`)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });
});

describe('local authorizer with the dev secret', () => {
  const verify = createLocalAuthorizer({ kind: 'dev', secret: 'local-dev-secret' });

  it('refuses asymmetric tokens and tokens with another secret', async () => {
    await expect(verify(`Bearer ${await sign(rsa, 'RS256', 'rsa')}`)).rejects.toMatchObject({
      code: 'UNAUTHENTICATED',
    });
    const other = await sign(new TextEncoder().encode('not-the-secret'), 'HS256', 'x');
    await expect(verify(`Bearer ${other}`)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    const good = await sign(new TextEncoder().encode('local-dev-secret'), 'HS256', 'x');
    await expect(verify(`Bearer ${good}`)).resolves.toMatchObject({ sub: 'alice' });
  });

  it.each([undefined, '', 'Bearer', 'Bearer a b', 'Basic dXNlcjpwYXNz', 'bearer x.y.z\r\nX-Evil: 1'])(
    'refuses the header %j',
    async (header) => {
      await expect(verify(header)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    },
  );
});
