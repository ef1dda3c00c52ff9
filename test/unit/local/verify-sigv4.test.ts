import { createHash, createHmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { describe, expect, it } from 'vitest';
import { type SignedRequest, verifySigV4 } from '../../../local/verify-sigv4.js';

const credentials = { accessKeyId: 'DDBLOCALABCDEF', secretAccessKey: 'the-stack-secret' };
const NOW = new Date('2026-03-01T12:00:00Z');
const BODY = '{"TableName":"stowage","Key":{"PK":{"S":"T#acme"},"SK":{"S":"QUOTA"}}}';

/** The Sha256 the SDK's signer wants, over node:crypto (as the SDK's own Node hash does). */
class Sha256 {
  private readonly hash;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    const key =
      secret === undefined || typeof secret === 'string'
        ? secret
        : ArrayBuffer.isView(secret)
          ? Buffer.from(secret.buffer, secret.byteOffset, secret.byteLength)
          : Buffer.from(secret);
    this.hash = key === undefined ? createHash('sha256') : createHmac('sha256', key);
  }
  update(data: Uint8Array) {
    this.hash.update(data);
  }
  async digest() {
    return new Uint8Array(this.hash.digest());
  }
}

/** A request signed the way the AWS SDK signs DynamoDB calls. */
async function signed(
  opts: { keys?: typeof credentials; at?: Date; service?: string; body?: string } = {},
): Promise<SignedRequest> {
  const body = opts.body ?? BODY;
  const signer = new SignatureV4({
    credentials: opts.keys ?? credentials,
    region: 'us-east-1',
    service: opts.service ?? 'dynamodb',
    sha256: Sha256,
  });
  const request = await signer.sign(
    {
      method: 'POST',
      protocol: 'http:',
      hostname: '127.0.0.1',
      port: 8000,
      path: '/',
      query: {},
      headers: {
        host: '127.0.0.1:8000',
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'DynamoDB_20120810.GetItem',
        'content-length': String(Buffer.byteLength(body)),
      },
      body,
    },
    { signingDate: opts.at ?? NOW },
  );
  return { method: 'POST', url: '/', headers: request.headers, body: Buffer.from(body) };
}

const verify = (request: SignedRequest, now = NOW) =>
  verifySigV4(request, { credentials, service: 'dynamodb', now });

describe('verifySigV4', () => {
  it('accepts a request the SDK signed with the key pair', async () => {
    expect(await verify(await signed())).toEqual({ ok: true });
  });

  it('accepts it up to 15 minutes either side of the clock', async () => {
    expect((await verify(await signed({ at: new Date(NOW.getTime() - 14 * 60_000) }))).ok).toBe(true);
    expect((await verify(await signed({ at: new Date(NOW.getTime() + 14 * 60_000) }))).ok).toBe(true);
  });

  type Attack = [string, () => Promise<SignedRequest>, string];
  const attacks: Attack[] = [
    [
      'no Authorization header',
      async () => {
        const r = await signed();
        const { authorization: _, ...headers } = r.headers;
        return { ...r, headers };
      },
      'MissingAuthenticationTokenException',
    ],
    [
      'another access key (any credentials used to work)',
      () => signed({ keys: { accessKeyId: 'local', secretAccessKey: 'local' } }),
      'UnrecognizedClientException',
    ],
    [
      'the right access key with a guessed secret',
      () => signed({ keys: { ...credentials, secretAccessKey: 'guess' } }),
      'InvalidSignatureException',
    ],
    ['a signature scoped to another service', () => signed({ service: 's3' }), 'InvalidSignatureException'],
    [
      'a captured request replayed 16 minutes later',
      () => signed({ at: new Date(NOW.getTime() - 16 * 60_000) }),
      'InvalidSignatureException',
    ],
    [
      'another body under a valid signature (same length)',
      async () => ({ ...(await signed()), body: Buffer.from(BODY.replace('QUOTA', 'QUOTB')) }),
      'InvalidSignatureException',
    ],
    [
      'a changed signed header (x-amz-target)',
      async () => {
        const r = await signed();
        return { ...r, headers: { ...r.headers, 'x-amz-target': 'DynamoDB_20120810.DeleteTable' } };
      },
      'InvalidSignatureException',
    ],
    [
      'a declared payload hash that is not the body',
      async () => {
        const r = await signed();
        return {
          ...r,
          headers: {
            ...r.headers,
            'x-amz-content-sha256': 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
          },
        };
      },
      'InvalidSignatureException',
    ],
    [
      'x-amz-date moved out of the signed scope',
      async () => {
        const r = await signed();
        return { ...r, headers: { ...r.headers, 'x-amz-date': '20260302T120000Z' } };
      },
      'InvalidSignatureException',
    ],
    [
      'a malformed Authorization header',
      async () => {
        const r = await signed();
        return { ...r, headers: { ...r.headers, authorization: 'Bearer abc' } };
      },
      'InvalidSignatureException',
    ],
    [
      'SignedHeaders without host',
      async () => {
        const r = await signed();
        const auth = String(r.headers.authorization).replace('SignedHeaders=', 'SignedHeaders=x-only;');
        return { ...r, headers: { ...r.headers, authorization: auth.replace(/;host/, '') } };
      },
      'InvalidSignatureException',
    ],
  ];

  it.each(attacks)('refuses %s', async (_name, request, code) => {
    const verdict = await verify(await request());
    expect(verdict).toMatchObject({ ok: false, code });
  });
});
