import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { CreateBucketCommand, DeleteBucketCommand, S3Client } from '@aws-sdk/client-s3';
import type { S3EventRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { type EmbeddedS3, startEmbeddedS3 } from '../../local/embedded-s3/index.js';
import { createS3Client, createS3ObjectStore } from '../../shared/adapters/s3-object-store.js';
import {
  InvalidPartsError,
  NoSuchUploadError,
  type ObjectStore,
  ObjectStoreError,
} from '../../shared/ports/object-store.js';

/**
 * What a store is known not to enforce. Each gap skips the tests that check it on that store,
 * and is the reason the service never relies on it: it signs create-once and lengths for the
 * stores that do, computes checksums where the store reports none, and stores a safe
 * Content-Type and Content-Disposition on every object.
 */
type Gap =
  /** Accepts any signature or none: lengths, types and expiry signed into URLs are not held. */
  | 'signatures'
  /** Neither requires nor verifies `x-amz-checksum-sha256`. */
  | 'checksums'
  /** Ignores a POST policy's `content-length-range`. */
  | 'post-policy'
  /** Ignores `response-content-type`/`response-content-disposition` on presigned GETs. */
  | 'response-overrides'
  /** Answers an unparseable 500 (not NoSuchUpload) to completing an aborted upload. */
  | 'complete-after-abort';

/**
 * A server the suite runs against: the embedded store and moto always (moto where python3 has
 * it; CI requires it), plus `S3_ENDPOINT` when set.
 */
interface Target {
  name: string;
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** An existing bucket to use; otherwise the suite creates (and removes) its own. */
  bucket?: string;
  gaps: ReadonlySet<Gap>;
}

/** What fetch and Blob accept as a body (a view on a plain ArrayBuffer). */
type Bytes = Uint8Array<ArrayBuffer>;

const MIB = 1024 * 1024;
const ATTACHMENT = `attachment; filename="report.txt"; filename*=UTF-8''report.txt`;
/** The web app's origin in the embedded store's own tests. */
const APP_ORIGIN = 'http://localhost:5173';
const PART_SIZE = 5 * MIB;

const targets: Target[] = [
  {
    name: 'the embedded store',
    endpoint: inject('s3Endpoint'),
    region: 'us-east-1',
    credentials: {
      accessKeyId: inject('stackConfig').s3AccessKeyId,
      secretAccessKey: inject('stackConfig').s3SecretAccessKey,
    },
    gaps: new Set(),
  },
];
const moto = inject('moto');
if (moto.endpoint) {
  targets.push({
    name: 'moto',
    endpoint: moto.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'conformance', secretAccessKey: 'conformance' },
    gaps: new Set<Gap>([
      'signatures',
      'checksums',
      'post-policy',
      'response-overrides',
      'complete-after-abort',
    ]),
  });
}
const external = process.env.S3_ENDPOINT;
if (external) {
  targets.push({
    name: `S3_ENDPOINT (${external})`,
    endpoint: external,
    region: process.env.S3_REGION ?? 'us-east-1',
    credentials: {
      accessKeyId: process.env.S3_ACCESS_KEY_ID ?? '',
      secretAccessKey: process.env.S3_SECRET_ACCESS_KEY ?? '',
    },
    bucket: process.env.S3_BUCKET,
    gaps: new Set(),
  });
}

function clientFor(target: Target): S3Client {
  return createS3Client({
    region: target.region,
    endpoint: target.endpoint,
    forcePathStyle: true,
    credentials: target.credentials,
  });
}

describe.each(targets)('S3 object store against $name', (target) => {
  const client = clientFor(target);
  const bucket = target.bucket ?? uniqueBucketName('conformance');
  const prefix = `conformance-${randomBytes(4).toString('hex')}`;
  const key = (name: string) => `${prefix}/${name}`;
  let store: ObjectStore;

  beforeAll(async () => {
    if (!target.bucket) await client.send(new CreateBucketCommand({ Bucket: bucket }));
    store = createS3ObjectStore({ client, bucket });
  });

  afterAll(async () => {
    await deleteEverythingUnder(store, prefix);
    if (!target.bucket) await client.send(new DeleteBucketCommand({ Bucket: bucket }));
    client.destroy();
  });

  describe('presigned PUT', () => {
    it('stores the body with its type when sent with the given headers', async () => {
      // Prepare
      const body = bytes('hello, presigned world');
      const upload = await store.presignPut({
        key: key('put/ok.txt'),
        contentType: 'text/plain',
        contentDisposition: ATTACHMENT,
        contentLength: body.length,
        expiresInSeconds: 60,
      });

      // Act
      const response = await fetch(upload.url, { method: 'PUT', headers: upload.headers, body });

      // Assess
      expect(response.status).toBe(200);
      expect(upload.headers).toEqual({
        'Content-Type': 'text/plain',
        'Content-Disposition': ATTACHMENT,
        'If-None-Match': '*',
      });
      expect(await store.head(key('put/ok.txt'))).toMatchObject({
        size: body.length,
        contentType: 'text/plain',
      });
      expect(await readAll(await store.stream(key('put/ok.txt')))).toEqual(Buffer.from(body));
    });

    it.skipIf(target.gaps.has('signatures'))(
      'is refused for a longer body, another content type or after it expired',
      async () => {
        // Prepare
        const body = bytes('exactly this');
        const input = {
          key: key('put/refused.txt'),
          contentType: 'text/plain',
          contentDisposition: ATTACHMENT,
          contentLength: body.length,
        };
        const upload = await store.presignPut({ ...input, expiresInSeconds: 60 });
        vi.useFakeTimers({ toFake: ['Date'] });
        vi.setSystemTime(Date.now() - 3_600_000);
        const expired = await store
          .presignPut({ ...input, expiresInSeconds: 60 })
          .finally(() => vi.useRealTimers());

        // Act
        const longer = await fetch(upload.url, {
          method: 'PUT',
          headers: upload.headers,
          body: bytes('exactly this!'),
        });
        const otherType = await fetch(upload.url, {
          method: 'PUT',
          headers: { 'Content-Type': 'text/html' },
          body,
        });
        const late = await fetch(expired.url, { method: 'PUT', headers: expired.headers, body });

        // Assess
        expect([longer.status, otherType.status, late.status]).toEqual([403, 403, 403]);
        expect(await store.head(input.key)).toBeNull();
      },
    );

    it.skipIf(target.gaps.has('checksums'))(
      'signs a declared sha256 as a header the client must send',
      async () => {
        // Prepare
        const body = bytes('checksummed');
        const upload = await store.presignPut({
          key: key('put/sha.txt'),
          contentType: 'text/plain',
          contentDisposition: ATTACHMENT,
          contentLength: body.length,
          checksumSha256Base64: sha256Base64(body),
          expiresInSeconds: 60,
        });
        const { 'x-amz-checksum-sha256': checksum, ...withoutChecksum } = upload.headers;

        // Act
        const missing = await fetch(upload.url, { method: 'PUT', headers: withoutChecksum, body });
        const sent = await fetch(upload.url, { method: 'PUT', headers: upload.headers, body });

        // Assess
        const url = new URL(upload.url);
        expect(url.searchParams.get('X-Amz-SignedHeaders')?.split(';')).toContain('x-amz-checksum-sha256');
        expect(url.searchParams.has('x-amz-checksum-sha256')).toBe(false);
        expect(checksum).toBe(sha256Base64(body));
        expect(missing.status).toBe(403);
        expect(sent.status).toBe(200);
      },
    );

    it.skipIf(target.gaps.has('checksums'))(
      'is refused when the body does not match the declared sha256',
      async () => {
        // Prepare
        const body = bytes('the real one');
        const upload = await store.presignPut({
          key: key('put/bad-sha.txt'),
          contentType: 'text/plain',
          contentDisposition: ATTACHMENT,
          contentLength: body.length,
          checksumSha256Base64: sha256Base64(body),
          expiresInSeconds: 60,
        });

        // Act
        const response = await fetch(upload.url, {
          method: 'PUT',
          headers: upload.headers,
          body: bytes('the fake one'),
        });

        // Assess
        expect(response.ok).toBe(false);
        expect(await store.head(key('put/bad-sha.txt'))).toBeNull();
      },
    );
  });

  describe('presigned POST', () => {
    it('stores a multipart/form-data upload with its type', async () => {
      // Prepare
      const body = bytes('posted from a form');
      const post = await store.presignPost({
        key: key('post/ok.txt'),
        contentType: 'text/plain',
        contentDisposition: ATTACHMENT,
        contentLength: body.length,
        expiresInSeconds: 60,
      });

      // Act
      const response = await fetch(post.url, {
        method: 'POST',
        body: formFor(post.fields, body, 'text/plain'),
      });

      // Assess
      expect(response.status).toBe(204);
      expect(post.fields).toMatchObject({ key: key('post/ok.txt'), 'Content-Type': 'text/plain' });
      expect(await store.head(key('post/ok.txt'))).toMatchObject({
        size: body.length,
        contentType: 'text/plain',
      });
      expect(await readAll(await store.stream(key('post/ok.txt')))).toEqual(Buffer.from(body));
    });

    it('pins the key, type, disposition, exact length and create-once in its policy', async () => {
      // Act
      const post = await store.presignPost({
        key: key('post/policy.txt'),
        contentType: 'text/plain',
        contentDisposition: ATTACHMENT,
        contentLength: 42,
        checksumSha256Base64: sha256Base64(bytes('x')),
        expiresInSeconds: 60,
      });

      // Assess
      const policy = JSON.parse(Buffer.from(post.fields.Policy ?? '', 'base64').toString('utf8'));
      expect(policy.conditions).toEqual(
        expect.arrayContaining([
          { key: key('post/policy.txt') },
          { 'Content-Type': 'text/plain' },
          { 'Content-Disposition': ATTACHMENT },
          { 'If-None-Match': '*' },
          ['content-length-range', 42, 42],
          { 'x-amz-checksum-algorithm': 'SHA256' },
          { 'x-amz-checksum-sha256': sha256Base64(bytes('x')) },
        ]),
      );
    });

    it.skipIf(target.gaps.has('post-policy'))('is refused for a body of another length', async () => {
      // Prepare
      const post = await store.presignPost({
        key: key('post/refused.txt'),
        contentType: 'text/plain',
        contentDisposition: ATTACHMENT,
        contentLength: 5,
        expiresInSeconds: 60,
      });

      // Act
      const response = await fetch(post.url, {
        method: 'POST',
        body: formFor(post.fields, bytes('123456'), 'text/plain'),
      });

      // Assess
      expect(response.ok).toBe(false);
      expect(await store.head(key('post/refused.txt'))).toBeNull();
    });
  });

  describe('presigned GET', () => {
    it.skipIf(target.gaps.has('response-overrides'))(
      'answers the bytes with the overridden type and disposition',
      async () => {
        // Prepare
        const body = bytes('%PDF-1.7 not really');
        await store.put({ key: key('get/doc'), body, contentType: 'application/pdf' });
        const disposition = `attachment; filename="Q3 report.pdf"; filename*=UTF-8''Q3%20r%C3%A9port.pdf`;

        // Act
        const url = await store.presignGet({
          key: key('get/doc'),
          expiresInSeconds: 60,
          responseContentType: 'application/octet-stream',
          responseContentDisposition: disposition,
        });
        const response = await fetch(url);

        // Assess
        expect(response.status).toBe(200);
        expect(response.headers.get('content-type')).toBe('application/octet-stream');
        expect(response.headers.get('content-disposition')).toBe(disposition);
        expect(Buffer.from(await response.arrayBuffer())).toEqual(Buffer.from(body));
      },
    );
  });

  describe('multipart upload', () => {
    it('assembles presigned parts completed in any order', async () => {
      // Prepare
      const first = new Uint8Array(PART_SIZE).fill(1);
      const second = bytes('and the tail');
      const target = key('multipart/ok.bin');
      const { uploadId } = await store.createMultipartUpload({
        key: target,
        contentType: 'application/x-test',
        contentDisposition: ATTACHMENT,
      });

      // Act
      const etags = [
        await uploadPart(store, target, uploadId, 1, first),
        await uploadPart(store, target, uploadId, 2, second),
      ];
      await store.completeMultipartUpload({
        key: target,
        uploadId,
        parts: [
          { partNumber: 2, etag: etags[1] ?? '' },
          { partNumber: 1, etag: etags[0] ?? '' },
        ],
      });

      // Assess
      const head = await store.head(target);
      expect(head).toMatchObject({ size: PART_SIZE + second.length, contentType: 'application/x-test' });
      expect(head?.etag).toMatch(/-2"$/);
      expect(head?.checksumSha256Base64).toBeNull();
      expect(sha256Base64(await readAll(await store.stream(target)))).toBe(
        sha256Base64(concat(first, second)),
      );
    });

    it('refuses to complete with a wrong ETag or a too small part', async () => {
      // Prepare
      const target = key('multipart/wrong.bin');
      const { uploadId } = await store.createMultipartUpload({
        key: target,
        contentType: 'application/x-test',
        contentDisposition: ATTACHMENT,
      });
      const etags = [
        await uploadPart(store, target, uploadId, 1, bytes('too small to be a first part')),
        await uploadPart(store, target, uploadId, 2, bytes('tail')),
      ];

      // Act: one at a time, each awaited where it is made (a second refusal left pending while
      // the first is awaited would reject with no handler yet: an unhandled rejection).
      const wrongEtag = await store
        .completeMultipartUpload({
          key: target,
          uploadId,
          parts: [{ partNumber: 1, etag: '"0123456789abcdef0123456789abcdef"' }],
        })
        .catch((error: unknown) => error);
      const tooSmall = await store
        .completeMultipartUpload({
          key: target,
          uploadId,
          parts: [
            { partNumber: 1, etag: etags[0] ?? '' },
            { partNumber: 2, etag: etags[1] ?? '' },
          ],
        })
        .catch((error: unknown) => error);

      // Assess
      expect(wrongEtag).toBeInstanceOf(InvalidPartsError);
      expect(tooSmall).toBeInstanceOf(InvalidPartsError);
      expect(await store.head(target)).toBeNull();
      await store.abortMultipartUpload({ key: target, uploadId });
    });

    it.skipIf(target.gaps.has('complete-after-abort'))('forgets an aborted upload', async () => {
      // Prepare
      const target = key('multipart/aborted.bin');
      const { uploadId } = await store.createMultipartUpload({
        key: target,
        contentType: 'application/x-test',
        contentDisposition: ATTACHMENT,
      });
      const etag = await uploadPart(store, target, uploadId, 1, bytes('only part'));

      // Act
      await store.abortMultipartUpload({ key: target, uploadId });

      // Assess
      await expect(
        store.completeMultipartUpload({ key: target, uploadId, parts: [{ partNumber: 1, etag }] }),
      ).rejects.toBeInstanceOf(NoSuchUploadError);
      const partUrl = await store.presignUploadPart({
        key: target,
        uploadId,
        partNumber: 2,
        contentLength: 9,
        expiresInSeconds: 60,
      });
      expect((await fetch(partUrl.url, { method: 'PUT', body: bytes('late part') })).status).toBe(404);
      expect(await store.head(target)).toBeNull();
    });
  });

  describe('reads', () => {
    it('answers null for a missing key', async () => {
      expect(await store.head(key('missing'))).toBeNull();
      expect(await store.readFirstBytes(key('missing'), 16)).toBeNull();
      expect(await store.stream(key('missing'))).toBeNull();
    });

    it('reads only the first bytes of empty, short and long objects', async () => {
      // Prepare
      const long = randomBytes(10_000);
      await store.put({ key: key('read/empty'), body: new Uint8Array(0), contentType: 'text/plain' });
      await store.put({ key: key('read/short'), body: bytes('short'), contentType: 'text/plain' });
      await store.put({ key: key('read/long'), body: long, contentType: 'application/octet-stream' });

      // Act
      const [empty, short, head] = await Promise.all([
        store.readFirstBytes(key('read/empty'), 4096),
        store.readFirstBytes(key('read/short'), 4096),
        store.readFirstBytes(key('read/long'), 4096),
      ]);

      // Assess
      expect(empty).toEqual(new Uint8Array(0));
      expect(Buffer.from(short ?? [])).toEqual(Buffer.from('short'));
      expect(Buffer.from(head ?? [])).toEqual(long.subarray(0, 4096));
      expect(await store.head(key('read/empty'))).toMatchObject({ size: 0 });
    });
  });

  describe('writes', () => {
    it('copies and deletes, idempotently', async () => {
      // Prepare
      await store.put({ key: key('write/source'), body: bytes('copy me'), contentType: 'image/png' });

      // Act
      await store.copy({ sourceKey: key('write/source'), destinationKey: key('write/quarantine/copy') });
      await store.delete(key('write/source'));
      await store.delete(key('write/source'));

      // Assess
      expect(await store.head(key('write/source'))).toBeNull();
      expect(await store.head(key('write/quarantine/copy'))).toMatchObject({
        size: 7,
        contentType: 'image/png',
      });
    });

    it.skipIf(target.gaps.has('signatures'))(
      'fails with an ObjectStoreError that names the operation, not the credentials',
      async () => {
        // Prepare
        const strangerClient = createS3Client({
          region: target.region,
          endpoint: target.endpoint,
          forcePathStyle: true,
          credentials: { accessKeyId: target.credentials.accessKeyId, secretAccessKey: 'wrong-secret' },
          maxAttempts: 1,
        });
        const stranger = createS3ObjectStore({ client: strangerClient, bucket });

        // Act
        const error = await stranger
          .put({ key: key('write/denied'), body: bytes('x'), contentType: 'text/plain' })
          .catch((e) => e)
          .finally(() => strangerClient.destroy());

        // Assess
        expect(error).toBeInstanceOf(ObjectStoreError);
        expect(error.message).toContain('put');
        expect(error.message).not.toContain('wrong-secret');
        expect(error.message).not.toContain(target.credentials.secretAccessKey);
      },
    );

    it('lists in pages and deletes more keys than one DeleteObjects call takes', async () => {
      // Prepare
      const keys = Array.from({ length: 1100 }, (_, i) => key(`many/${String(i).padStart(4, '0')}`));
      await inParallel(keys, 16, (k) => store.put({ key: k, body: bytes('.'), contentType: 'text/plain' }));

      // Act
      const firstPage = await store.list({ prefix: key('many/') });
      const secondPage = await store.list({ prefix: key('many/'), cursor: firstPage.nextCursor ?? '' });
      await store.deleteMany([...keys, key('many/never-existed')]);
      await store.deleteMany(keys);

      // Assess
      expect(firstPage.objects).toHaveLength(1000);
      expect(secondPage.objects.map((o) => o.key)).toEqual(keys.slice(1000));
      expect(secondPage.nextCursor).toBeNull();
      expect((await store.list({ prefix: key('many/') })).objects).toEqual([]);
    });

    it('pages by the given limit', async () => {
      // Prepare
      const keys = ['a', 'b', 'c', 'd', 'e'].map((name) => key(`paged/${name}`));
      for (const k of keys) await store.put({ key: k, body: bytes(k), contentType: 'text/plain' });

      // Act
      const pages: string[][] = [];
      let cursor: string | undefined;
      do {
        const page = await store.list({ prefix: key('paged/'), limit: 2, cursor });
        pages.push(page.objects.map((o) => o.key));
        cursor = page.nextCursor ?? undefined;
      } while (cursor);

      // Assess
      expect(pages).toEqual([keys.slice(0, 2), keys.slice(2, 4), keys.slice(4)]);
    });
  });
});

describe('createS3ObjectStore', () => {
  it('refuses to presign with a client that would sign an empty-body checksum', async () => {
    // Prepare
    const sdkDefaults = new S3Client({
      region: 'us-east-1',
      endpoint: 'http://127.0.0.1:9',
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    });
    const store = createS3ObjectStore({ client: sdkDefaults, bucket: 'any' });

    // Act
    const presigned = store.presignPut({
      key: 'k',
      contentType: 'text/plain',
      contentDisposition: ATTACHMENT,
      contentLength: 1,
      expiresInSeconds: 60,
    });

    // Assess
    await expect(presigned).rejects.toThrow(/requestChecksumCalculation 'WHEN_SUPPORTED'/);
    await expect(presigned).rejects.toBeInstanceOf(ObjectStoreError);
    sdkDefaults.destroy();
  });
});

describe('startEmbeddedS3', () => {
  let dataDir: string;
  let s3: EmbeddedS3;
  let client: S3Client;
  let store: ObjectStore;
  const bucket = uniqueBucketName('embedded');

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'stowage-embedded-s3-'));
    s3 = await startEmbeddedS3({ dataDir, port: 0, buckets: [bucket], allowedOrigins: [APP_ORIGIN] });
    client = createS3Client({
      region: s3.region,
      endpoint: s3.endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    });
    store = createS3ObjectStore({ client, bucket });
  });

  afterAll(async () => {
    client.destroy();
    await s3.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('creates buckets idempotently, open to browser uploads from its allowed origins only', async () => {
    // Prepare
    const preflight = (origin: string) =>
      fetch(`${s3.endpoint}/${bucket}/some/key`, {
        method: 'OPTIONS',
        headers: {
          Origin: origin,
          'Access-Control-Request-Method': 'PUT',
          'Access-Control-Request-Headers': 'content-type,x-amz-checksum-sha256',
        },
      });
    const upload = await store.presignPut({
      key: 'cors.txt',
      contentType: 'text/plain',
      contentDisposition: ATTACHMENT,
      contentLength: 2,
      expiresInSeconds: 60,
    });

    // Act
    await s3.createBucket(bucket);
    const allowed = await preflight(APP_ORIGIN);
    const other = await preflight('http://localhost:5174');
    const put = await fetch(upload.url, {
      method: 'PUT',
      headers: { ...upload.headers, Origin: APP_ORIGIN },
      body: bytes('ok'),
    });

    // Assess
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(APP_ORIGIN);
    expect(allowed.headers.get('access-control-allow-methods')).toContain('PUT');
    expect(allowed.headers.get('access-control-allow-headers')).toBe('content-type,x-amz-checksum-sha256');
    expect(other.status).toBe(403);
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    expect(put.status).toBe(200);
    expect(put.headers.get('access-control-allow-origin')).toBe(APP_ORIGIN);
    expect(put.headers.get('access-control-expose-headers')).toContain('ETag');
  });

  it('reports new objects as S3 event records, with keys encoded as S3 does', async () => {
    // Prepare
    const records: S3EventRecord[] = [];
    const unsubscribe = s3.onObjectCreated((record) => records.push(record));
    const putKey = 'events/put a file é.txt';
    const postKey = 'events/post a file é.txt';
    const multipartKey = 'events/multipart a file é.bin';

    // Act
    const body = bytes('event me');
    const upload = await store.presignPut({
      key: putKey,
      contentType: 'text/plain',
      contentDisposition: ATTACHMENT,
      contentLength: 8,
      expiresInSeconds: 60,
    });
    await fetch(upload.url, { method: 'PUT', headers: upload.headers, body });
    const post = await store.presignPost({
      key: postKey,
      contentType: 'text/plain',
      contentDisposition: ATTACHMENT,
      contentLength: 8,
      expiresInSeconds: 60,
    });
    await fetch(post.url, { method: 'POST', body: formFor(post.fields, body, 'text/plain') });
    const { uploadId } = await store.createMultipartUpload({
      key: multipartKey,
      contentType: 'application/x-test',
      contentDisposition: ATTACHMENT,
    });
    const etags = [
      await uploadPart(store, multipartKey, uploadId, 1, new Uint8Array(PART_SIZE)),
      await uploadPart(store, multipartKey, uploadId, 2, body),
    ];
    await store.completeMultipartUpload({
      key: multipartKey,
      uploadId,
      parts: etags.map((etag, i) => ({ partNumber: i + 1, etag })),
    });
    await store.copy({ sourceKey: putKey, destinationKey: 'events/copy' });
    await store.delete('events/copy');
    await vi.waitFor(() => expect(records).toHaveLength(4));
    unsubscribe();
    await store.put({ key: 'events/after-unsubscribe', body, contentType: 'text/plain' });

    // Assess
    const byName = Object.fromEntries(records.map((r) => [r.eventName, r]));
    expect(Object.keys(byName).sort()).toEqual([
      'ObjectCreated:CompleteMultipartUpload',
      'ObjectCreated:Copy',
      'ObjectCreated:Post',
      'ObjectCreated:Put',
    ]);
    expect(byName['ObjectCreated:Put']).toMatchObject({
      eventVersion: '2.1',
      eventSource: 'aws:s3',
      awsRegion: s3.region,
      s3: {
        s3SchemaVersion: '1.0',
        bucket: { name: bucket, arn: `arn:aws:s3:::${bucket}` },
        object: { key: 'events/put+a+file+%C3%A9.txt', size: 8, eTag: md5Hex(body) },
      },
    });
    expect(byName['ObjectCreated:Post']?.s3.object).toMatchObject({
      key: 'events/post+a+file+%C3%A9.txt',
      size: 8,
    });
    expect(byName['ObjectCreated:CompleteMultipartUpload']?.s3.object).toMatchObject({
      key: 'events/multipart+a+file+%C3%A9.bin',
      size: PART_SIZE + 8,
      eTag: expect.stringMatching(/^[0-9a-f]{32}-2$/),
    });
    expect(byName['ObjectCreated:Copy']?.s3.object).toMatchObject({ key: 'events/copy', eTag: md5Hex(body) });
    for (const record of records) {
      expect(Date.parse(record.eventTime)).not.toBeNaN();
      expect(record.s3.object.sequencer).toMatch(/^[0-9A-F]{16,}$/);
      expect(decodeURIComponent(record.s3.object.key.replace(/\+/g, ' '))).toMatch(/^events\//);
    }
    await new Promise((done) => setTimeout(done, 50));
    expect(records).toHaveLength(4);
  });

  it('keeps its data across a restart on the same port, which stop() frees', async () => {
    // Prepare
    await store.put({ key: 'persisted.txt', body: bytes('still here'), contentType: 'text/plain' });
    const port = Number(new URL(s3.endpoint).port);

    // Act
    await s3.stop();
    const portWasFree = await canListenOn(port);
    s3 = await startEmbeddedS3({ dataDir, port, buckets: [bucket] });

    // Assess
    expect(portWasFree).toBe(true);
    expect(await store.head('persisted.txt')).toMatchObject({ size: 10, contentType: 'text/plain' });
  });
});

function uniqueBucketName(purpose: string): string {
  return `${purpose}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

function bytes(text: string): Bytes {
  return new TextEncoder().encode(text);
}

function concat(...parts: Uint8Array[]): Uint8Array {
  return Buffer.concat(parts);
}

function sha256Base64(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('base64');
}

function md5Hex(data: Uint8Array): string {
  return createHash('md5').update(data).digest('hex');
}

function formFor(fields: Record<string, string>, body: Bytes, type: string): FormData {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  // The file goes last: S3 ignores fields after it.
  form.append('file', new Blob([body], { type }), 'upload');
  return form;
}

async function readAll(stream: Readable | null): Promise<Buffer> {
  if (!stream) throw new Error('expected an object');
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

/** PUTs one part through its presigned URL, as a browser would; returns its ETag. */
async function uploadPart(
  store: ObjectStore,
  key: string,
  uploadId: string,
  partNumber: number,
  body: Bytes,
): Promise<string> {
  const { url, headers } = await store.presignUploadPart({
    key,
    uploadId,
    partNumber,
    contentLength: body.length,
    expiresInSeconds: 60,
  });
  const response = await fetch(url, { method: 'PUT', headers, body });
  expect(response.status).toBe(200);
  const etag = response.headers.get('etag');
  if (!etag) throw new Error('the part answer has no ETag');
  return etag;
}

async function inParallel<T>(items: readonly T[], width: number, work: (item: T) => Promise<unknown>) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: width }, worker));
}

async function deleteEverythingUnder(store: ObjectStore, prefix: string): Promise<void> {
  for (;;) {
    const page = await store.list({ prefix });
    await store.deleteMany(page.objects.map((o) => o.key));
    if (!page.nextCursor) return;
  }
}

async function canListenOn(port: number): Promise<boolean> {
  return new Promise((done) => {
    const server = createServer();
    server.once('error', () => done(false));
    server.listen(port, '127.0.0.1', () => server.close(() => done(true)));
  });
}
