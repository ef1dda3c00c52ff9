import { createHash, randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { Sha256Node } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { readEmbeddedS3Credentials } from '../../local/embedded-s3/index.js';
import { createS3Client } from '../../shared/adapters/s3-object-store.js';
import { uploadsBucket } from '../support/storage.js';

/**
 * Attacks on the running stack's embedded S3 store, with plain HTTP as an attacker on the
 * machine would send it: no signature, the old public key pair, edited presigned URLs and POST
 * forms, replays, races, wrong checksums, foreign origins, malformed requests. Each attack is
 * followed by a look at what the store really holds. Objects live under `attacks/`, outside the
 * `tenants/` prefix the stack's storage events watch.
 */

const endpoint = inject('s3Endpoint');
const stack = inject('stackConfig');
const bucket = stack.uploadsBucket;
const keys = { accessKeyId: stack.s3AccessKeyId, secretAccessKey: stack.s3SecretAccessKey };
const store = uploadsBucket();
const prefix = `attacks/${randomBytes(4).toString('hex')}`;
const key = (name: string) => `${prefix}/${name}`;
const objectUrl = (k: string) => `${endpoint}/${bucket}/${k.split('/').map(encodeURIComponent).join('/')}`;
const text = (value: string) => new TextEncoder().encode(value);
const sha256Base64 = (value: Uint8Array | string) => createHash('sha256').update(value).digest('base64');

let presigner: S3Client;
beforeAll(() => {
  presigner = createS3Client({ region: 'us-east-1', endpoint, forcePathStyle: true, credentials: keys });
});
afterAll(() => presigner.destroy());

async function contentOf(k: string): Promise<string | null> {
  const body = await store.stream(k);
  if (!body) return null;
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks).toString();
}

async function putVictim(name: string, body = `victim ${name}`) {
  await store.put({ key: key(name), body: text(body), contentType: 'text/plain' });
  return { key: key(name), body };
}

/** S3's error code from an XML error answer. */
async function errorCode(response: Response): Promise<string | null> {
  const body = await response.text();
  return /<Code>([^<]*)<\/Code>/.exec(body)?.[1] ?? null;
}

async function answer(response: Response) {
  return { status: response.status, code: await errorCode(response) };
}

function form(fields: Record<string, string>, body: Uint8Array, type = 'text/plain'): FormData {
  const data = new FormData();
  for (const [name, value] of Object.entries(fields)) data.append(name, value);
  data.append('file', new Blob([new Uint8Array(body)], { type }), 'upload.bin');
  return data;
}

describe('requests without a valid signature', () => {
  it('cannot list, read, overwrite or delete, and change nothing', async () => {
    // Prepare
    const victim = await putVictim('unsigned.txt');
    const deleteXml = `<Delete><Object><Key>${victim.key}</Key></Object></Delete>`;

    // Act
    const results = [
      await answer(await fetch(`${endpoint}/${bucket}?list-type=2`)),
      await answer(await fetch(`${endpoint}/`)),
      await answer(await fetch(objectUrl(victim.key))),
      await answer(await fetch(objectUrl(victim.key), { method: 'PUT', body: 'overwritten' })),
      await answer(await fetch(objectUrl(victim.key), { method: 'DELETE' })),
      await answer(await fetch(`${endpoint}/${bucket}?delete`, { method: 'POST', body: deleteXml })),
      await answer(await fetch(`${objectUrl(victim.key)}?uploads`, { method: 'POST' })),
      await answer(await fetch(`${endpoint}/${bucket}-new`, { method: 'PUT' })),
      await answer(await fetch(`${endpoint}/${bucket}`, { method: 'DELETE' })),
    ];
    const head = await fetch(objectUrl(victim.key), { method: 'HEAD' });

    // Assess
    expect(results).toEqual(Array(results.length).fill({ status: 403, code: 'AccessDenied' }));
    expect(head.status).toBe(403);
    expect(await contentOf(victim.key)).toBe(victim.body);
  });

  it('refuses the old public key pair S3RVER/S3RVER, and the stack does not use it', async () => {
    // Prepare
    const victim = await putVictim('s3rver-pair.txt');
    const old = new S3Client({
      region: 'us-east-1',
      endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
      maxAttempts: 1,
    });

    // Act
    const errors = await Promise.all(
      [
        old.send(new ListObjectsV2Command({ Bucket: bucket })),
        old.send(new GetObjectCommand({ Bucket: bucket, Key: victim.key })),
        old.send(new PutObjectCommand({ Bucket: bucket, Key: victim.key, Body: 'overwritten' })),
      ].map((call) => call.then(() => 'accepted').catch((e) => e.name)),
    );
    old.destroy();

    // Assess
    expect(errors).toEqual(['InvalidAccessKeyId', 'InvalidAccessKeyId', 'InvalidAccessKeyId']);
    expect(keys.accessKeyId).not.toBe('S3RVER');
    expect(keys.secretAccessKey).not.toBe('S3RVER');
    expect(await contentOf(victim.key)).toBe(victim.body);
  });

  it('refuses a right key id with a wrong secret', async () => {
    const victim = await putVictim('wrong-secret.txt');
    const guessed = new S3Client({
      region: 'us-east-1',
      endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: keys.accessKeyId, secretAccessKey: 'guessed' },
      maxAttempts: 1,
    });
    const error = await guessed
      .send(new PutObjectCommand({ Bucket: bucket, Key: victim.key, Body: 'overwritten' }))
      .catch((e) => e.name);
    guessed.destroy();
    expect(error).toBe('SignatureDoesNotMatch');
    expect(await contentOf(victim.key)).toBe(victim.body);
  });
});

describe('presigned URLs', () => {
  it('refuse a tampered query, another key, and an expired URL', async () => {
    // Prepare
    const victim = await putVictim('presigned-victim.txt');
    const mine = await putVictim('presigned-mine.txt');
    const get = new URL(await store.presignGet({ key: mine.key, expiresInSeconds: 60 }));
    const withType = new URL(get);
    withType.searchParams.set('response-content-type', 'text/html');
    const longer = new URL(get);
    longer.searchParams.set('X-Amz-Expires', '604800');
    const otherKey = new URL(get);
    otherKey.pathname = new URL(objectUrl(victim.key)).pathname;
    const put = await store.presignPut({
      key: mine.key,
      contentType: 'text/plain',
      contentDisposition: 'attachment',
      contentLength: 11,
      expiresInSeconds: 60,
    });
    const putOther = new URL(put.url);
    putOther.pathname = new URL(objectUrl(victim.key)).pathname;
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() - 3_600_000);
    const expired = await store
      .presignGet({ key: mine.key, expiresInSeconds: 60 })
      .finally(() => vi.useRealTimers());

    // Act
    const results = [
      await answer(await fetch(withType)),
      await answer(await fetch(longer)),
      await answer(await fetch(otherKey)),
      await answer(await fetch(putOther, { method: 'PUT', headers: put.headers, body: 'overwritten' })),
      await answer(await fetch(expired)),
    ];

    // Assess
    expect(results).toEqual([
      { status: 403, code: 'SignatureDoesNotMatch' },
      { status: 403, code: 'SignatureDoesNotMatch' },
      { status: 403, code: 'SignatureDoesNotMatch' },
      { status: 403, code: 'SignatureDoesNotMatch' },
      { status: 403, code: 'AccessDenied' },
    ]);
    expect((await fetch(get)).status).toBe(200);
    expect(await contentOf(victim.key)).toBe(victim.body);
  });

  it('refuse an x-amz-copy-source header added to an upload URL (a copy of another object into mine)', async () => {
    // Prepare
    const victim = await putVictim('copy-victim.txt', 'another tenant secret');
    const upload = await store.presignPut({
      key: key('copy-target.txt'),
      contentType: 'text/plain',
      contentDisposition: 'attachment',
      contentLength: 0,
      expiresInSeconds: 60,
    });

    // Act
    const response = await fetch(upload.url, {
      method: 'PUT',
      headers: { ...upload.headers, 'x-amz-copy-source': `${bucket}/${victim.key}` },
      body: new Uint8Array(0),
    });

    // Assess
    expect(await answer(response)).toEqual({ status: 403, code: 'AccessDenied' });
    expect(await store.head(key('copy-target.txt'))).toBeNull();
  });
});

describe('POST forms', () => {
  const body = text('exactly 20 bytes!!!!');
  const issue = (name: string, extra: { checksum?: string; expiresInSeconds?: number } = {}) =>
    store.presignPost({
      key: key(name),
      contentType: 'text/plain',
      contentDisposition: 'attachment',
      contentLength: body.length,
      checksumSha256Base64: extra.checksum,
      expiresInSeconds: extra.expiresInSeconds ?? 60,
    });

  it('issued for one key, with its key field edited, cannot write another object', async () => {
    // Prepare
    const victim = await putVictim('post-victim.txt');
    const post = await issue('post-mine.txt');

    // Act
    const response = await fetch(post.url, {
      method: 'POST',
      body: form({ ...post.fields, key: victim.key }, body),
    });

    // Assess
    expect(await answer(response)).toEqual({ status: 403, code: 'AccessDenied' });
    expect(await contentOf(victim.key)).toBe(victim.body);
    expect(await store.head(key('post-mine.txt'))).toBeNull();
  });

  it.each([
    [
      'a longer file than content-length-range allows',
      (f: Record<string, string>) => form(f, text('exactly 20 bytes!!!! and more')),
      400,
      'EntityTooLarge',
    ],
    ['a shorter file', (f: Record<string, string>) => form(f, text('short')), 400, 'EntityTooSmall'],
    [
      'another Content-Type',
      (f: Record<string, string>) => form({ ...f, 'Content-Type': 'text/html' }, body),
      403,
      'AccessDenied',
    ],
    [
      'an uncovered x-amz-meta field',
      (f: Record<string, string>) => form({ ...f, 'x-amz-meta-owner': 'mallory' }, body),
      403,
      'AccessDenied',
    ],
    [
      'an uncovered acl field',
      (f: Record<string, string>) => form({ ...f, acl: 'public-read' }, body),
      403,
      'AccessDenied',
    ],
    [
      'no policy signature',
      (f: Record<string, string>) => form({ ...f, 'X-Amz-Signature': '0'.repeat(64) }, body),
      403,
      'SignatureDoesNotMatch',
    ],
  ])('refuses %s and stores nothing', async (_, build, status, code) => {
    // Prepare
    const name = `post-${randomBytes(3).toString('hex')}.txt`;
    const post = await issue(name);

    // Act
    const response = await fetch(post.url, { method: 'POST', body: build(post.fields) });

    // Assess
    expect(await answer(response)).toEqual({ status, code });
    expect(await store.head(key(name))).toBeNull();
  });

  it('refuses an edited x-amz-checksum-sha256 field, and a file that does not match the signed one', async () => {
    // Prepare
    const post = await issue('post-checksum.txt', { checksum: sha256Base64(body) });

    // Act
    const edited = await fetch(post.url, {
      method: 'POST',
      body: form({ ...post.fields, 'x-amz-checksum-sha256': sha256Base64('other') }, text('other')),
    });
    const wrongFile = await fetch(post.url, {
      method: 'POST',
      body: form(post.fields, text('exactly 20 bytes????')),
    });

    // Assess
    expect(await answer(edited)).toEqual({ status: 403, code: 'AccessDenied' });
    expect(await answer(wrongFile)).toEqual({ status: 400, code: 'BadDigest' });
    expect(await store.head(key('post-checksum.txt'))).toBeNull();
  });

  it('refuses an expired form', async () => {
    // Prepare
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() - 3_600_000);
    const post = await issue('post-expired.txt').finally(() => vi.useRealTimers());

    // Act
    const response = await fetch(post.url, { method: 'POST', body: form(post.fields, body) });

    // Assess
    expect(await answer(response)).toEqual({ status: 403, code: 'AccessDenied' });
    expect(await store.head(key('post-expired.txt'))).toBeNull();
  });

  it('with a signed If-None-Match * condition, creates its object once and never replaces it', async () => {
    // Prepare: the condition the service will sign into its POST policies.
    const post = await createPresignedPost(presigner, {
      Bucket: bucket,
      Key: key('post-once.txt'),
      Conditions: [['eq', '$If-None-Match', '*']],
      Fields: { 'Content-Type': 'text/plain', 'If-None-Match': '*' },
      Expires: 60,
    });

    // Act
    const first = await fetch(post.url, { method: 'POST', body: form(post.fields, text('first')) });
    const replay = await fetch(post.url, { method: 'POST', body: form(post.fields, text('replayed')) });
    const { 'If-None-Match': _, ...withoutCondition } = post.fields;
    const dropped = await fetch(post.url, { method: 'POST', body: form(withoutCondition, text('dropped')) });

    // Assess
    expect(first.status).toBe(204);
    expect(await answer(replay)).toEqual({ status: 412, code: 'PreconditionFailed' });
    expect(await answer(dropped)).toEqual({ status: 403, code: 'AccessDenied' });
    expect(await contentOf(key('post-once.txt'))).toBe('first');
  });
});

describe('conditional writes', () => {
  const createOnceUrl = (k: string) =>
    getSignedUrl(presigner, new PutObjectCommand({ Bucket: bucket, Key: k, IfNoneMatch: '*' }), {
      expiresIn: 60,
      signableHeaders: new Set(['if-none-match']),
    });

  it('a replayed If-None-Match: * PUT is 412 and the object keeps its first bytes', async () => {
    // Prepare
    const url = await createOnceUrl(key('once.txt'));

    // Act
    const first = await fetch(url, { method: 'PUT', headers: { 'If-None-Match': '*' }, body: 'first' });
    const replay = await fetch(url, { method: 'PUT', headers: { 'If-None-Match': '*' }, body: 'replay' });
    const withoutHeader = await fetch(url, { method: 'PUT', body: 'no header' });

    // Assess
    expect(new URL(url).searchParams.get('X-Amz-SignedHeaders')).toContain('if-none-match');
    expect(first.status).toBe(200);
    expect(await answer(replay)).toEqual({ status: 412, code: 'PreconditionFailed' });
    expect(await answer(withoutHeader)).toEqual({ status: 403, code: 'SignatureDoesNotMatch' });
    expect(await contentOf(key('once.txt'))).toBe('first');
  });

  it('of 12 racing If-None-Match: * PUTs exactly one wins, and its bytes are the object', async () => {
    // Prepare
    const url = await createOnceUrl(key('race.txt'));
    const bodies = Array.from({ length: 12 }, (_, i) => `racer ${i} ${'x'.repeat(i * 1000)}`);

    // Act
    const statuses = await Promise.all(
      bodies.map((b) =>
        fetch(url, { method: 'PUT', headers: { 'If-None-Match': '*' }, body: b }).then((r) => r.status),
      ),
    );

    // Assess
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 412)).toHaveLength(11);
    expect(await contentOf(key('race.txt'))).toBe(bodies[statuses.indexOf(200)]);
  });
});

describe('checksums', () => {
  it('a body that does not match its signed x-amz-checksum-sha256 is 400 BadDigest and stores nothing', async () => {
    // Prepare
    const upload = await store.presignPut({
      key: key('bad-sha.txt'),
      contentType: 'text/plain',
      contentDisposition: 'attachment',
      contentLength: 8,
      checksumSha256Base64: sha256Base64('expected'),
      expiresInSeconds: 60,
    });

    // Act
    const response = await fetch(upload.url, { method: 'PUT', headers: upload.headers, body: 'tampered' });

    // Assess
    expect(await answer(response)).toEqual({ status: 400, code: 'BadDigest' });
    expect(await store.head(key('bad-sha.txt'))).toBeNull();
  });

  it('a signed body that is not the one whose hash was signed is refused', async () => {
    // Prepare: header auth with the hash of "expected", then another body of the same length.
    const signer = new SignatureV4({
      credentials: keys,
      region: 'us-east-1',
      service: 's3',
      sha256: Sha256Node,
    });
    const url = new URL(objectUrl(key('bad-payload.txt')));
    const signed = await signer.sign({
      method: 'PUT',
      protocol: 'http:',
      hostname: url.hostname,
      port: Number(url.port),
      path: url.pathname,
      query: {},
      headers: {
        host: url.host,
        'content-length': '8',
        'x-amz-content-sha256': createHash('sha256').update('expected').digest('hex'),
      },
    });

    // Act
    const response = await fetch(url, { method: 'PUT', headers: signed.headers, body: 'tampered' });

    // Assess
    expect(await answer(response)).toEqual({ status: 400, code: 'XAmzContentSHA256Mismatch' });
    expect(await store.head(key('bad-payload.txt'))).toBeNull();
  });
});

describe('CORS', () => {
  const preflight = (origin: string) =>
    fetch(objectUrl(key('cors.txt')), {
      method: 'OPTIONS',
      headers: {
        Origin: origin,
        'Access-Control-Request-Method': 'PUT',
        'Access-Control-Request-Headers': 'content-type',
      },
    });

  it('answers a preflight from an unlisted origin with 403 and no allow headers, and the API origin with them', async () => {
    // Act
    const foreign = await preflight('https://evil.example');
    const api = await preflight(new URL(inject('apiUrl')).origin);
    const foreignGet = await fetch(
      await store.presignGet({ key: (await putVictim('cors.txt')).key, expiresInSeconds: 60 }),
      {
        headers: { Origin: 'https://evil.example' },
      },
    );

    // Assess
    expect(foreign.status).toBe(403);
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
    expect(foreign.headers.get('access-control-allow-methods')).toBeNull();
    expect(api.status).toBe(200);
    expect(api.headers.get('access-control-allow-origin')).toBe(new URL(inject('apiUrl')).origin);
    expect(api.headers.get('access-control-allow-origin')).not.toBe('*');
    expect(foreignGet.status).toBe(200);
    expect(foreignGet.headers.get('access-control-allow-origin')).toBeNull();
    expect(foreignGet.headers.get('x-content-type-options')).toBe('nosniff');
  });
});

describe('the key pair', () => {
  it('is the one kept in the data dir, readable by its owner only', async () => {
    const dir = join(inject('dataDir'), 's3');
    expect((await stat(join(dir, 'credentials.json'))).mode & 0o777).toBe(0o600);
    expect(await readEmbeddedS3Credentials(dir)).toEqual({
      accessKeyId: stack.s3AccessKeyId,
      secretAccessKey: stack.s3SecretAccessKey,
    });
  });
});

describe('malformed requests', () => {
  /** Sends raw bytes on a socket; answers the status line and the body. */
  const raw = (request: string) =>
    new Promise<{ status: number; body: string }>((done, fail) => {
      const { hostname, port } = new URL(endpoint);
      const socket = connect(Number(port), hostname, () => socket.end(request));
      let data = '';
      socket.setEncoding('latin1');
      socket.on('data', (chunk) => {
        data += chunk;
      });
      socket.on('error', fail);
      socket.on('close', () => {
        done({
          status: Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0),
          body: data.split('\r\n\r\n').slice(1).join('\r\n\r\n'),
        });
      });
    });

  it('answers 4xx to each, never a 5xx or a stack trace, and keeps serving', async () => {
    // Prepare: a small deterministic fuzz over paths, queries and auth headers.
    let seed = 9;
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed;
    };
    const pick = <T>(items: readonly T[]) => items[next() % items.length] as T;
    const paths = [
      '/',
      `/${bucket}`,
      `/${bucket}/`,
      `/${bucket}/%ZZ`,
      `/${bucket}/%C3%28`,
      `/${bucket}/../../etc/passwd`,
      `/${'a'.repeat(2000)}`,
      `/${bucket}/${'k'.repeat(1100)}`,
      '/.%2e/.%2e/x',
      `/${bucket}/a%00b`,
    ];
    const queries = [
      '',
      '?uploads',
      '?uploadId=../../x&partNumber=1',
      '?list-type=2&max-keys=-1',
      '?delete',
      '?tagging',
      '?acl',
      '?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=-5',
      '?X-Amz-Algorithm=nope',
      '?continuation-token=%%%',
    ];
    const auths = [
      '',
      'Authorization: AWS4-HMAC-SHA256\r\n',
      'Authorization: AWS S3RVER:abc\r\n',
      `Authorization: AWS4-HMAC-SHA256 Credential=${keys.accessKeyId}/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00\r\nx-amz-date: 20260101T000000Z\r\nx-amz-content-sha256: UNSIGNED-PAYLOAD\r\n`,
      'Authorization: AWS4-HMAC-SHA256 Credential=a/b/c, SignedHeaders=, Signature=\r\n',
      'x-amz-date: garbage\r\n',
    ];
    const methods = ['GET', 'PUT', 'POST', 'DELETE', 'HEAD', 'PATCH', 'OPTIONS'];

    // Act
    const answers: { request: string; status: number; body: string }[] = [];
    for (let i = 0; i < 120; i++) {
      const request = `${pick(methods)} ${pick(paths)}${pick(queries)} HTTP/1.1\r\nHost: x\r\n${pick(auths)}Content-Length: 3\r\nConnection: close\r\n\r\nabc`;
      answers.push({ request, ...(await raw(request)) });
    }
    const stillServing = await store.head(key('never-there'));

    // Assess
    const bad = answers.filter(
      (a) => a.status < 400 || a.status >= 500 || /\n\s+at |node:|\.ts:\d/.test(a.body),
    );
    expect(bad.map((a) => `${a.status} ${a.request.split('\r\n')[0]}`)).toEqual([]);
    expect(stillServing).toBeNull();
  });
});
