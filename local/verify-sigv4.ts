import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import type { KeyPair } from './embedded-s3/credentials.js';

export interface SignedRequest {
  method: string;
  /** The request target as sent: path and query string. */
  url: string;
  /** Lower-case names, as node:http gives them. */
  headers: Readonly<Record<string, string | string[] | undefined>>;
  body: Buffer;
}

export type SigV4Verdict =
  | { ok: true }
  | {
      ok: false;
      /** The error AWS answers in the same case (`__type` of a JSON protocol error). */
      code:
        | 'MissingAuthenticationTokenException'
        | 'UnrecognizedClientException'
        | 'InvalidSignatureException';
      message: string;
    };

const AUTHORIZATION =
  /^AWS4-HMAC-SHA256 Credential=([^/\s]+)\/(\d{8})\/([a-z0-9-]+)\/([a-z0-9-]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/;
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;
/** AWS refuses signatures more than 15 minutes away from its clock. */
const MAX_SKEW_MS = 15 * 60 * 1000;

/**
 * Checks a request's SigV4 `Authorization` header against one key pair, for `service`: the
 * access key, the scope, the date (15 minutes either way), that `host` and `x-amz-date` are
 * signed, the body's hash, then the signature itself, recomputed by the SDK's own signer over
 * exactly the headers the client signed.
 */
export async function verifySigV4(
  request: SignedRequest,
  opts: { credentials: KeyPair; service: string; now?: Date },
): Promise<SigV4Verdict> {
  const authorization = one(request.headers.authorization);
  if (!authorization)
    return fail('MissingAuthenticationTokenException', 'Request is missing Authentication Token');
  const match = AUTHORIZATION.exec(authorization);
  if (!match) return fail('InvalidSignatureException', 'The Authorization header is not a SigV4 signature.');
  const [, accessKeyId, scopeDate, region, service, signedList, signature] = match as unknown as string[];
  if (accessKeyId !== opts.credentials.accessKeyId)
    return fail('UnrecognizedClientException', 'The security token included in the request is invalid.');
  if (service !== opts.service)
    return fail('InvalidSignatureException', `Credential should be scoped to service '${opts.service}'.`);

  const amzDate = one(request.headers['x-amz-date']) ?? '';
  const date = parseAmzDate(amzDate);
  if (!date || !amzDate.startsWith(scopeDate as string))
    return fail(
      'InvalidSignatureException',
      'X-Amz-Date is missing, malformed or outside the credential scope.',
    );
  if (Math.abs(date.getTime() - (opts.now ?? new Date()).getTime()) > MAX_SKEW_MS)
    return fail(
      'InvalidSignatureException',
      'Signature expired or not yet valid (more than 15 minutes away).',
    );

  const signed = (signedList as string).split(';');
  if (!signed.includes('host') || !signed.includes('x-amz-date'))
    return fail('InvalidSignatureException', 'host and x-amz-date must be signed.');
  const headers: Record<string, string> = {};
  for (const name of signed) {
    const value = request.headers[name];
    if (value === undefined) return fail('InvalidSignatureException', `Signed header ${name} is missing.`);
    headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  // The signer trusts a declared payload hash: make sure it is the body's.
  const declaredHash = headers['x-amz-content-sha256'];
  if (declaredHash !== undefined && declaredHash !== sha256Hex(request.body))
    return fail('InvalidSignatureException', 'x-amz-content-sha256 does not match the body.');

  const { path, query } = splitTarget(request.url);
  const signer = new SignatureV4({
    credentials: opts.credentials,
    region: region as string,
    service: opts.service,
    sha256: NodeSha256,
    applyChecksum: false,
  });
  const expected = await signer.sign(
    {
      method: request.method,
      protocol: 'http:',
      hostname: headers.host as string,
      path,
      query,
      headers,
      body: request.body,
    },
    { signingDate: date, signableHeaders: new Set(signed) },
  );
  const expectedSignature =
    /Signature=([0-9a-f]{64})$/.exec(String(expected.headers.authorization))?.[1] ?? '';
  const same =
    expectedSignature.length === (signature as string).length &&
    timingSafeEqual(Buffer.from(expectedSignature), Buffer.from(signature as string));
  return same
    ? { ok: true }
    : fail(
        'InvalidSignatureException',
        'The request signature we calculated does not match the signature you provided.',
      );
}

const fail = (code: Exclude<SigV4Verdict, { ok: true }>['code'], message: string): SigV4Verdict => ({
  ok: false,
  code,
  message,
});

const one = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);
const sha256Hex = (body: Buffer) => createHash('sha256').update(body).digest('hex');

function parseAmzDate(value: string): Date | null {
  const m = AMZ_DATE.exec(value);
  if (!m) return null;
  const date = new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`);
  return Number.isNaN(date.getTime()) ? null : date;
}

function splitTarget(url: string): { path: string; query: Record<string, string | string[]> } {
  const at = url.indexOf('?');
  const path = at === -1 ? url : url.slice(0, at);
  const query: Record<string, string | string[]> = {};
  if (at !== -1) {
    for (const [name, value] of new URLSearchParams(url.slice(at + 1))) {
      const seen = query[name];
      query[name] = seen === undefined ? value : [...(Array.isArray(seen) ? seen : [seen]), value];
    }
  }
  return { path, query };
}

/** The signer's hash interface over node:crypto: SHA-256, or HMAC-SHA256 when given a key. */
type SourceData = string | ArrayBuffer | ArrayBufferView;

class NodeSha256 {
  private readonly secret: SourceData | undefined;
  private hash: ReturnType<typeof createHash> | ReturnType<typeof createHmac>;

  constructor(secret?: SourceData) {
    this.secret = secret;
    this.hash = this.fresh();
  }

  update(data: Uint8Array): void {
    this.hash.update(data);
  }

  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }

  reset(): void {
    this.hash = this.fresh();
  }

  private fresh() {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', toBuffer(this.secret));
  }
}

function toBuffer(data: SourceData): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}
