import { createHash, timingSafeEqual } from 'node:crypto';
import { Sha256Node } from '@smithy/core/checksum';
import { escapeUri } from '@smithy/core/protocols';
import { SignatureV4 } from '@smithy/signature-v4';
import { s3Errors } from './errors.js';

/**
 * AWS Signature Version 4 as S3 checks it: the Authorization header or a presigned query. The
 * canonical request is rebuilt here from what arrived (S3's rules: the path is URI-encoded once
 * from its decoded form, never twice; query pairs and signed headers canonicalised as SigV4
 * says), and the SDK's own signer (@smithy/signature-v4) derives the key and computes the
 * HMAC, so the store recomputes exactly what the SDK, curl or a browser signed.
 */

export interface SignedRequest {
  method: string;
  /** The path exactly as sent, percent-encoding included. */
  rawPath: string;
  /** Query pairs, decoded, in the order sent. */
  query: readonly (readonly [string, string])[];
  /** Lower-case header name to every value received under it. */
  headers: Readonly<Record<string, readonly string[] | undefined>>;
}

export type PayloadSigning =
  | { kind: 'unsigned' }
  /** The body's SHA-256 in hex, to check while it streams. */
  | { kind: 'sha256'; hex: string }
  /** aws-chunked with a signature per chunk (and a signed trailer when `trailer`). */
  | { kind: 'streaming-signed'; trailer: boolean }
  /** aws-chunked without chunk signatures; checksums arrive in the trailer. */
  | { kind: 'streaming-unsigned-trailer' };

/** What chunk and trailer signatures of aws-chunked bodies are computed from. */
export interface SigningContext {
  longDate: string;
  scope: string;
  /** The request's own signature: the seed of the chunk signature chain. */
  signature: string;
  /** HMAC-SHA256 of a string to sign with this request's signing key, in hex. */
  sign(stringToSign: string): Promise<string>;
}

export interface VerifiedRequest {
  accessKeyId: string;
  presigned: boolean;
  payload: PayloadSigning;
  signedHeaders: readonly string[];
  signing: SigningContext;
}

/** Looks up the secret of an access key id; undefined for an unknown one. */
export type SecretLookup = (accessKeyId: string) => string | undefined;

export const ALGORITHM = 'AWS4-HMAC-SHA256';
export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
/** S3's window for the time in a header-signed request. */
export const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;
/** Presigned URLs live at most a week. */
export const MAX_PRESIGNED_SECONDS = 7 * 24 * 60 * 60;

const STREAMING_PAYLOADS: Record<string, PayloadSigning> = {
  'STREAMING-AWS4-HMAC-SHA256-PAYLOAD': { kind: 'streaming-signed', trailer: false },
  'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER': { kind: 'streaming-signed', trailer: true },
  'STREAMING-UNSIGNED-PAYLOAD-TRAILER': { kind: 'streaming-unsigned-trailer' },
};
const LONG_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;
const HEX_SHA256 = /^[0-9a-f]{64}$/;

/** True when the request carries any SigV4 material (header or query). */
export function isSigned(request: SignedRequest): boolean {
  return (
    headerValue(request, 'authorization') !== undefined ||
    queryValue(request, 'X-Amz-Algorithm') !== undefined
  );
}

/**
 * Checks the request's signature; throws S3's error otherwise (AccessDenied without one,
 * InvalidAccessKeyId, SignatureDoesNotMatch, RequestTimeTooSkewed, expired URLs...).
 */
export async function verifyRequest(
  request: SignedRequest,
  findSecret: SecretLookup,
  now: Date,
): Promise<VerifiedRequest> {
  const authorization = headerValue(request, 'authorization');
  const presigned = queryValue(request, 'X-Amz-Algorithm') !== undefined;
  if (authorization !== undefined && presigned) {
    throw s3Errors.invalidArgument(
      'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified',
    );
  }
  if (authorization === undefined && !presigned) throw s3Errors.accessDenied();
  const parsed =
    authorization !== undefined ? parseHeaderAuth(request, authorization, now) : parseQueryAuth(request, now);

  const secret = findSecret(parsed.accessKeyId);
  if (secret === undefined)
    throw s3Errors.invalidAccessKeyId(undefined, { AWSAccessKeyId: parsed.accessKeyId });
  checkEveryAmzHeaderIsSigned(request, parsed.signedHeaders);

  const canonical = canonicalRequest(request, parsed.signedHeaders, parsed.payloadHash, parsed.presigned);
  const signing = signingContext(parsed, secret);
  const expected = await signing.sign(stringToSign(parsed.longDate, parsed.scope, canonical));
  if (!sameHex(expected, parsed.signature)) throw s3Errors.signatureDoesNotMatch();
  return {
    accessKeyId: parsed.accessKeyId,
    presigned: parsed.presigned,
    payload: parsed.payload,
    signedHeaders: parsed.signedHeaders,
    signing,
  };
}

/** SigV4's canonical request, with S3's path rule (encoded once, from the decoded path). */
export function canonicalRequest(
  request: SignedRequest,
  signedHeaders: readonly string[],
  payloadHash: string,
  presigned: boolean,
): string {
  const headers = signedHeaders.map((name) => `${name}:${canonicalHeaderValue(request, name)}\n`).join('');
  return [
    request.method,
    canonicalUri(request.rawPath),
    canonicalQuery(request.query, presigned),
    headers,
    signedHeaders.join(';'),
    payloadHash,
  ].join('\n');
}

/** Each path segment decoded, then RFC 3986-encoded; `/` stays. Bad percent-encoding is InvalidURI. */
export function canonicalUri(rawPath: string): string {
  return rawPath
    .split('/')
    .map((segment) => escapeUri(decodeComponent(segment)))
    .join('/');
}

export function stringToSign(longDate: string, scope: string, canonical: string): string {
  return [ALGORITHM, longDate, scope, createHash('sha256').update(canonical, 'utf8').digest('hex')].join(
    '\n',
  );
}

/** The Date of a SigV4 timestamp (`20261201T215004Z`), or null when it is not one. */
export function parseLongDate(value: string): Date | null {
  const match = LONG_DATE.exec(value);
  if (!match) return null;
  const [, y, mo, d, h, mi, s] = match.map(Number) as number[];
  const date = new Date(Date.UTC(y as number, (mo as number) - 1, d, h, mi, s));
  // Reject 20261341T...: Date.UTC would roll it over into another valid date.
  return date.toISOString().replace(/[-:]|\.\d{3}/g, '') === value ? date : null;
}

/** The HMAC-SHA256 of `text` with the SigV4 signing key of this secret, date, region and s3. */
export function signWithKey(
  keys: { accessKeyId: string; secretAccessKey: string },
  date: Date,
  region: string,
  text: string,
): Promise<string> {
  const signer = new SignatureV4({ credentials: keys, region, service: 's3', sha256: Sha256Node });
  return signer.sign(text, { signingDate: date, signingRegion: region, signingService: 's3' });
}

interface ParsedAuth {
  accessKeyId: string;
  shortDate: string;
  region: string;
  scope: string;
  longDate: string;
  date: Date;
  signedHeaders: string[];
  signature: string;
  payloadHash: string;
  payload: PayloadSigning;
  presigned: boolean;
}

function parseHeaderAuth(request: SignedRequest, authorization: string, now: Date): ParsedAuth {
  const malformed = (message = 'The authorization header is malformed.') =>
    s3Errors.authorizationHeaderMalformed(message);
  if (!authorization.startsWith(`${ALGORITHM} `)) {
    // Signature Version 2 and anything else: S3 would answer for v2; this store does not speak it.
    if (authorization.startsWith('AWS '))
      throw s3Errors.accessDenied('Signature Version 2 is not supported; sign with SigV4.');
    throw malformed();
  }
  const fields = new Map<string, string>();
  for (const part of authorization.slice(ALGORITHM.length + 1).split(',')) {
    const trimmed = part.trim();
    const eq = trimmed.indexOf('=');
    if (eq <= 0) throw malformed();
    fields.set(trimmed.slice(0, eq), trimmed.slice(eq + 1));
  }
  const credential = fields.get('Credential');
  const signedHeaders = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (credential === undefined || signedHeaders === undefined || signature === undefined) throw malformed();

  const longDate = headerValue(request, 'x-amz-date');
  const date = longDate === undefined ? null : parseLongDate(longDate);
  if (longDate === undefined || date === null) {
    throw s3Errors.accessDenied('AWS authentication requires a valid x-amz-date header');
  }
  if (Math.abs(now.getTime() - date.getTime()) > MAX_CLOCK_SKEW_MS) {
    throw s3Errors.requestTimeTooSkewed(undefined, {
      RequestTime: longDate,
      ServerTime: now.toISOString(),
      MaxAllowedSkewMilliseconds: MAX_CLOCK_SKEW_MS,
    });
  }
  const scope = parseCredential(credential, longDate, malformed);

  const payloadHash = headerValue(request, 'x-amz-content-sha256');
  if (payloadHash === undefined) {
    throw s3Errors.invalidRequest('Missing required header for this request: x-amz-content-sha256');
  }
  return {
    ...scope,
    longDate,
    date,
    signedHeaders: parseSignedHeaders(signedHeaders, malformed),
    signature,
    payloadHash,
    payload: payloadSigning(payloadHash),
    presigned: false,
  };
}

function parseQueryAuth(request: SignedRequest, now: Date): ParsedAuth {
  const malformed = (
    message = 'Query-string authentication requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.',
  ) => s3Errors.authorizationQueryParametersError(message);
  if (queryValue(request, 'X-Amz-Algorithm') !== ALGORITHM) {
    throw malformed('X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"');
  }
  const credential = queryValue(request, 'X-Amz-Credential');
  const longDate = queryValue(request, 'X-Amz-Date');
  const expires = queryValue(request, 'X-Amz-Expires');
  const signedHeaders = queryValue(request, 'X-Amz-SignedHeaders');
  const signature = queryValue(request, 'X-Amz-Signature');
  if (!credential || !longDate || !expires || !signedHeaders || !signature) throw malformed();
  const date = parseLongDate(longDate);
  if (date === null)
    throw malformed("X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"");
  if (!/^\d{1,7}$/.test(expires) || Number(expires) > MAX_PRESIGNED_SECONDS) {
    throw malformed('X-Amz-Expires must be a number of seconds between 0 and 604800 (seven days)');
  }
  const scope = parseCredential(credential, longDate, malformed);
  if (now.getTime() > date.getTime() + Number(expires) * 1000)
    throw s3Errors.accessDenied('Request has expired');
  if (date.getTime() - now.getTime() > MAX_CLOCK_SKEW_MS)
    throw s3Errors.accessDenied('Request is not valid yet');

  const payloadHash = queryValue(request, 'X-Amz-Content-Sha256') ?? UNSIGNED_PAYLOAD;
  const payload = payloadSigning(payloadHash);
  if (payload.kind !== 'unsigned' && payload.kind !== 'sha256') {
    throw malformed('Presigned requests cannot stream aws-chunked payloads');
  }
  return {
    ...scope,
    longDate,
    date,
    signedHeaders: parseSignedHeaders(signedHeaders, malformed),
    signature,
    payloadHash,
    payload,
    presigned: true,
  };
}

/** `AKID/20261201/us-east-1/s3/aws4_request`; the date must be the request's. */
function parseCredential(
  credential: string,
  longDate: string,
  malformed: (message?: string) => Error,
): Pick<ParsedAuth, 'accessKeyId' | 'shortDate' | 'region' | 'scope'> {
  const parts = credential.split('/');
  const [accessKeyId, shortDate, region, service, terminator] = parts;
  if (parts.length !== 5 || !accessKeyId || !shortDate || !region || terminator !== 'aws4_request') {
    throw malformed(
      `The credential '${credential}' is not of the form <key>/<date>/<region>/s3/aws4_request`,
    );
  }
  if (service !== 's3') throw malformed(`The credential is scoped to the service '${service}', not s3`);
  if (shortDate !== longDate.slice(0, 8)) {
    throw malformed(
      `The credential date ${shortDate} is not the date of the request (${longDate.slice(0, 8)})`,
    );
  }
  return { accessKeyId, shortDate, region, scope: parts.slice(1).join('/') };
}

function parseSignedHeaders(value: string, malformed: (message?: string) => Error): string[] {
  const names = value.split(';');
  if (names.some((name) => !/^[a-z0-9!#$%&'*+.^_`|~-]+$/.test(name))) {
    throw malformed('SignedHeaders must be lower-case header names separated by semicolons');
  }
  if (!names.includes('host')) throw s3Errors.accessDenied('The host header must be signed');
  return names;
}

function payloadSigning(payloadHash: string): PayloadSigning {
  if (payloadHash === UNSIGNED_PAYLOAD) return { kind: 'unsigned' };
  if (HEX_SHA256.test(payloadHash)) return { kind: 'sha256', hex: payloadHash };
  const streaming = STREAMING_PAYLOADS[payloadHash];
  if (streaming) return streaming;
  throw s3Errors.invalidArgument(
    'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, a STREAMING-* value, or a hex SHA-256',
    { ArgumentName: 'x-amz-content-sha256', ArgumentValue: payloadHash.slice(0, 100) },
  );
}

/**
 * S3 refuses x-amz-* headers the signature does not cover: otherwise anyone holding a presigned
 * PUT could add, say, x-amz-copy-source or x-amz-tagging to it.
 */
function checkEveryAmzHeaderIsSigned(request: SignedRequest, signedHeaders: readonly string[]): void {
  const signed = new Set(signedHeaders);
  const unsigned = Object.keys(request.headers).filter(
    (name) => name.startsWith('x-amz-') && request.headers[name] !== undefined && !signed.has(name),
  );
  if (unsigned.length > 0) {
    throw s3Errors.accessDenied('There were headers present in the request which were not signed', {
      HeadersNotSigned: unsigned.sort().join(', '),
    });
  }
}

function canonicalHeaderValue(request: SignedRequest, name: string): string {
  const values = request.headers[name];
  if (values === undefined) throw s3Errors.signatureDoesNotMatch();
  return values.map((value) => value.trim().replace(/\s+/g, ' ')).join(',');
}

function canonicalQuery(query: SignedRequest['query'], presigned: boolean): string {
  return query
    .filter(([name]) => !(presigned && name === 'X-Amz-Signature'))
    .map(([name, value]) => [escapeUri(name), escapeUri(value)] as const)
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
}

function signingContext(parsed: ParsedAuth, secretAccessKey: string): SigningContext {
  const keys = { accessKeyId: parsed.accessKeyId, secretAccessKey };
  return {
    longDate: parsed.longDate,
    scope: parsed.scope,
    signature: parsed.signature,
    sign: (text) => signWithKey(keys, parsed.date, parsed.region, text),
  };
}

function sameHex(expected: string, given: string): boolean {
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(given, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

function headerValue(request: SignedRequest, name: string): string | undefined {
  const values = request.headers[name];
  return values === undefined ? undefined : values.join(',');
}

function queryValue(request: SignedRequest, name: string): string | undefined {
  return request.query.find(([key]) => key === name)?.[1];
}

function decodeComponent(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw s3Errors.invalidUri();
  }
}
