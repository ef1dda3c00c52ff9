import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTarget } from '../../../../local/embedded-s3/request.js';
import { canonicalUri, type SignedRequest, verifyRequest } from '../../../../local/embedded-s3/sigv4.js';

/**
 * AWS's documented example secret and time (S3 API reference, SigV4 examples), with a key id
 * that cannot be mistaken for a real one. A header signature does not cover the key id, so
 * AWS's published signatures hold unchanged; the presigned URL's query does, so its signature
 * is the one the AWS SDK's SignatureV4 makes for this id (it makes AWS's published one,
 * aeeed9bb…, for AWS's own example id).
 */
const AWS = {
  accessKeyId: 'EXAMPLEKEYID',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
};
const AWS_TIME = new Date('2013-05-24T00:00:00Z');
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const KEYS = { accessKeyId: 'AKSLTESTKEY0000000000', secretAccessKey: 'test/secret+with=signs' };
const secrets = (pair: { accessKeyId: string; secretAccessKey: string }) => (id: string) =>
  id === pair.accessKeyId ? pair.secretAccessKey : undefined;

/** The request as the store parses it, from a URL path and headers (lower-case names). */
function request(method: string, url: string, headers: Record<string, string>): SignedRequest {
  const headersDistinct = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]]));
  return parseTarget({ method, url, headersDistinct } as unknown as IncomingMessage).signed;
}

function authorization(signedHeaders: string, signature: string) {
  return `AWS4-HMAC-SHA256 Credential=${AWS.accessKeyId}/20130524/us-east-1/s3/aws4_request,SignedHeaders=${signedHeaders},Signature=${signature}`;
}

const awsGet = (path: string, signature: string, extra: Record<string, string> = {}) =>
  request('GET', path, {
    host: 'examplebucket.s3.amazonaws.com',
    ...extra,
    'x-amz-content-sha256': EMPTY_SHA256,
    'x-amz-date': '20130524T000000Z',
    authorization: authorization(
      ['host', ...Object.keys(extra), 'x-amz-content-sha256', 'x-amz-date'].join(';'),
      signature,
    ),
  });

describe('verifyRequest against the signatures AWS documents', () => {
  it.each([
    [
      'GetObject with a Range header',
      awsGet('/test.txt', 'f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41', {
        range: 'bytes=0-9',
      }),
    ],
    [
      'GetBucketLifecycle (a value-less sub-resource)',
      awsGet('/?lifecycle', 'fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543'),
    ],
    [
      'ListObjects (query sorted by name)',
      awsGet('/?max-keys=2&prefix=J', '34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7'),
    ],
    [
      'PutObject of a key with a $ (encoded once, not twice) signed with a Date header',
      request('PUT', '/test%24file.text', {
        date: 'Fri, 24 May 2013 00:00:00 GMT',
        host: 'examplebucket.s3.amazonaws.com',
        'x-amz-date': '20130524T000000Z',
        'x-amz-storage-class': 'REDUCED_REDUNDANCY',
        'x-amz-content-sha256': createHash('sha256').update('Welcome to Amazon S3.').digest('hex'),
        authorization: authorization(
          'date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class',
          '98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd',
        ),
      }),
    ],
    [
      'a presigned GetObject URL',
      request(
        'GET',
        '/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=EXAMPLEKEYID%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=834f15fb046a1a8302faeb88d44958c39ffeb2cd685d6558c4488afc05a202ab',
        { host: 'examplebucket.s3.amazonaws.com' },
      ),
    ],
    [
      'the seed of a signed streaming (aws-chunked) PutObject',
      request('PUT', '/examplebucket/chunkObject.txt', {
        host: 's3.amazonaws.com',
        'x-amz-date': '20130524T000000Z',
        'x-amz-storage-class': 'REDUCED_REDUNDANCY',
        'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
        'content-encoding': 'aws-chunked',
        'x-amz-decoded-content-length': '66560',
        'content-length': '66824',
        authorization: authorization(
          'content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class',
          '4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9',
        ),
      }),
    ],
  ])('accepts %s', async (_, signed) => {
    // Act
    const verified = await verifyRequest(signed, secrets(AWS), AWS_TIME);

    // Assess
    expect(verified.accessKeyId).toBe(AWS.accessKeyId);
  });

  it('refuses the same requests with one byte changed', async () => {
    // Prepare
    const original = awsGet('/test.txt', 'f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41', {
      range: 'bytes=0-9',
    });
    const otherRange = { ...original, headers: { ...original.headers, range: ['bytes=0-99'] } };
    const otherKey = { ...original, rawPath: '/test.txT' };
    const otherMethod = { ...original, method: 'DELETE' };
    const otherQuery = { ...original, query: [['versionId', 'null'] as const] };

    // Act
    const results = await Promise.all(
      [otherRange, otherKey, otherMethod, otherQuery].map((signed) =>
        verifyRequest(signed, secrets(AWS), AWS_TIME).catch((e) => e.code),
      ),
    );

    // Assess
    expect(results).toEqual(Array(4).fill('SignatureDoesNotMatch'));
  });
});

describe('verifyRequest with what the AWS SDK sends', () => {
  let server: Server;
  let endpoint: string;
  let client: S3Client;
  const captured: SignedRequest[] = [];

  beforeAll(async () => {
    // A loopback server that keeps each request exactly as it arrived, parsed by the store.
    server = createServer((req, res) => {
      captured.push(parseTarget(req).signed);
      req.resume();
      res.writeHead(200, { 'content-type': 'application/xml' });
      res.end('<ListBucketResult></ListBucketResult>');
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    client = new S3Client({
      region: 'eu-west-3',
      endpoint,
      forcePathStyle: true,
      credentials: KEYS,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      maxAttempts: 1,
    });
  });

  afterAll(async () => {
    client.destroy();
    await new Promise<void>((done) => server.close(() => done()));
  });

  const sent = async (send: () => Promise<unknown>) => {
    captured.length = 0;
    await send().catch(() => undefined);
    const signed = captured[0];
    if (!signed) throw new Error('nothing was sent');
    return signed;
  };

  it('accepts a header-signed PutObject of a key with spaces, parentheses, unicode and a signed body hash', async () => {
    // Prepare
    const signed = await sent(() =>
      client.send(
        new PutObjectCommand({
          Bucket: 'bucket',
          Key: "dir/a b (1)!*'~é/../x.txt",
          Body: 'hello',
          ContentType: 'text/plain',
          Metadata: { note: 'a  b' },
        }),
      ),
    );

    // Act
    const verified = await verifyRequest(signed, secrets(KEYS), new Date());

    // Assess
    expect(signed.rawPath).toBe('/bucket/dir/a%20b%20%281%29%21%2A%27~%C3%A9/../x.txt');
    expect(verified.payload).toEqual({
      kind: 'sha256',
      hex: createHash('sha256').update('hello').digest('hex'),
    });
  });

  it('accepts the SDK path of a bucket-level request, /bucket/ with its trailing slash', async () => {
    // Prepare
    const signed = await sent(() =>
      client.send(new ListObjectsV2Command({ Bucket: 'bucket', Prefix: 'a b/' })),
    );

    // Act
    const verified = await verifyRequest(signed, secrets(KEYS), new Date());

    // Assess
    expect(signed.rawPath).toBe('/bucket/');
    expect(verified.presigned).toBe(false);
  });

  it('accepts a presigned GET whose query holds an RFC 5987 Content-Disposition', async () => {
    // Prepare
    const url = await getSignedUrl(
      client,
      new GetObjectCommand({
        Bucket: 'bucket',
        Key: 'k',
        ResponseContentDisposition: `attachment; filename="a.pdf"; filename*=UTF-8''r%C3%A9sum%C3%A9 (1).pdf`,
      }),
      { expiresIn: 60 },
    );
    const { pathname, search, host } = new URL(url);

    // Act
    const verified = await verifyRequest(
      request('GET', pathname + search, { host }),
      secrets(KEYS),
      new Date(),
    );

    // Assess
    expect(verified.presigned).toBe(true);
    expect(verified.payload).toEqual({ kind: 'unsigned' });
  });

  it('refuses a presigned PUT sent with a header it did not sign, another key, or a tampered query', async () => {
    // Prepare
    const url = new URL(
      await getSignedUrl(
        client,
        new PutObjectCommand({ Bucket: 'bucket', Key: 'mine', ContentType: 'text/plain' }),
        {
          expiresIn: 60,
          signableHeaders: new Set(['content-type']),
        },
      ),
    );
    const headers = { host: url.host, 'content-type': 'text/plain' };
    const at = (pathAndQuery: string, extra: Record<string, string> = {}) =>
      verifyRequest(request('PUT', pathAndQuery, { ...headers, ...extra }), secrets(KEYS), new Date()).catch(
        (e) => e.code,
      );

    // Act
    const ok = await at(url.pathname + url.search).then((v) => (typeof v === 'string' ? v : 'ok'));
    const results = await Promise.all([
      at(url.pathname + url.search, { 'x-amz-copy-source': 'bucket/secret' }),
      at(`/bucket/theirs${url.search}`),
      at(url.pathname + url.search.replace('X-Amz-Expires=60', 'X-Amz-Expires=600')),
      at(url.pathname + url.search, { 'content-type': 'text/html' }),
    ]);

    // Assess
    expect(ok).toBe('ok');
    expect(results).toEqual([
      'AccessDenied',
      'SignatureDoesNotMatch',
      'SignatureDoesNotMatch',
      'SignatureDoesNotMatch',
    ]);
  });
});

describe('verifyRequest refusals', () => {
  const vector = () =>
    awsGet('/test.txt', 'f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41', {
      range: 'bytes=0-9',
    });
  const code = (signed: SignedRequest, now = AWS_TIME, lookup = secrets(AWS)) =>
    verifyRequest(signed, lookup, now).then(
      () => 'accepted',
      (e) => e.code,
    );

  it('answers AccessDenied without any signature, InvalidAccessKeyId for an unknown key', async () => {
    const unsigned = request('GET', '/test.txt', { host: 'examplebucket.s3.amazonaws.com' });
    expect(await code(unsigned)).toBe('AccessDenied');
    expect(await code(vector(), AWS_TIME, secrets(KEYS))).toBe('InvalidAccessKeyId');
  });

  it('answers RequestTimeTooSkewed past 15 minutes either way', async () => {
    expect(await code(vector(), new Date(AWS_TIME.getTime() + 14 * 60_000))).toBe('accepted');
    expect(await code(vector(), new Date(AWS_TIME.getTime() + 16 * 60_000))).toBe('RequestTimeTooSkewed');
    expect(await code(vector(), new Date(AWS_TIME.getTime() - 16 * 60_000))).toBe('RequestTimeTooSkewed');
  });

  it('refuses an expired presigned URL, one valid for more than 7 days, and one dated in the future', async () => {
    const presigned = (expires: string) =>
      request(
        'GET',
        `/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=EXAMPLEKEYID%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=${expires}&X-Amz-SignedHeaders=host&X-Amz-Signature=834f15fb046a1a8302faeb88d44958c39ffeb2cd685d6558c4488afc05a202ab`,
        { host: 'examplebucket.s3.amazonaws.com' },
      );
    expect(await code(presigned('86400'), new Date(AWS_TIME.getTime() + 86_399_000))).toBe('accepted');
    expect(await code(presigned('86400'), new Date(AWS_TIME.getTime() + 86_401_000))).toBe('AccessDenied');
    expect(await code(presigned('604801'))).toBe('AuthorizationQueryParametersError');
    expect(await code(presigned('86400'), new Date(AWS_TIME.getTime() - 20 * 60_000))).toBe('AccessDenied');
  });

  it('refuses a signed header that is missing, and an x-amz-* header that is not signed', async () => {
    const withoutRange = vector();
    const { range: _range, ...headers } = withoutRange.headers;
    expect(await code({ ...withoutRange, headers })).toBe('SignatureDoesNotMatch');
    const withExtra = vector();
    expect(await code({ ...withExtra, headers: { ...withExtra.headers, 'x-amz-tagging': ['a=b'] } })).toBe(
      'AccessDenied',
    );
  });

  it('refuses a header and a query signature together, and a scope for another service or day', async () => {
    const both = vector();
    expect(await code({ ...both, query: [['X-Amz-Algorithm', 'AWS4-HMAC-SHA256']] })).toBe('InvalidArgument');
    const otherService = vector();
    const auth = otherService.headers.authorization?.[0] ?? '';
    expect(
      await code({
        ...otherService,
        headers: { ...otherService.headers, authorization: [auth.replace('/s3/', '/ec2/')] },
      }),
    ).toBe('AuthorizationHeaderMalformed');
    expect(
      await code({
        ...otherService,
        headers: { ...otherService.headers, authorization: [auth.replace('20130524/', '20130525/')] },
      }),
    ).toBe('AuthorizationHeaderMalformed');
  });
});

describe('canonicalUri', () => {
  it.each([
    ['/bucket/key', '/bucket/key'],
    ['/bucket/', '/bucket/'],
    ['/bucket/a%20b', '/bucket/a%20b'],
    // Encoded once from the decoded path: what a client sent raw is encoded, never twice.
    ['/bucket/a(b)', '/bucket/a%28b%29'],
    ['/bucket/%7E~', '/bucket/~~'],
    ['/bucket/%2F', '/bucket/%2F'],
    ['/bucket/a%252F', '/bucket/a%252F'],
    ['/bucket/é', '/bucket/%C3%A9'],
    ['/bucket//double', '/bucket//double'],
  ])('%s canonicalises to %s', (raw, canonical) => {
    expect(canonicalUri(raw)).toBe(canonical);
  });

  it('refuses malformed percent-encoding as InvalidURI', () => {
    expect(() => canonicalUri('/bucket/%E0%A4%A')).toThrow(expect.objectContaining({ code: 'InvalidURI' }));
    expect(() => canonicalUri('/bucket/%FF')).toThrow(expect.objectContaining({ code: 'InvalidURI' }));
  });
});
