import { beforeAll, describe, expect, inject, it } from 'vitest';
import { mintDevToken } from '../../local/dev-token.js';
import {
  createStowageClient,
  StowageApiError,
  type StowageClient,
  type StowageFile,
  type UploadProgress,
} from '../../web/client/index.js';
import { client, newTenant } from '../support/api.js';
import { PNG_1x1 } from '../support/samples.js';

const MiB = 1024 * 1024;
const ref = { entityType: 'ticket', entityId: 'T-1001' };
const png = new Uint8Array(PNG_1x1);

/** Bytes that differ per offset, so a part sent twice or out of place would show. */
const patterned = (size: number) => {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + (i >> 13)) & 0xff;
  return bytes;
};

// toEqual walks megabytes element by element: far too slow here.
const sameBytes = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));
const isPartUrl = (url: string) => /[?&]partNumber=\d+/.test(url) && /[?&]uploadId=/.test(url);
const partNumberOf = (url: string) => Number(/[?&]partNumber=(\d+)/.exec(url)?.[1]);
const urlOf = (input: Parameters<typeof fetch>[0]) =>
  typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;

describe('web client against the local stack', () => {
  const tenantId = newTenant('webc');
  let stowage: StowageClient;
  let bucketId: string;
  let imagesBucketId: string;
  const token = () => mintDevToken({ tenantId, userId: 'alice', roles: ['member'] });
  const clientWith = (fetchImpl?: typeof fetch) =>
    createStowageClient({ baseUrl: inject('apiUrl'), getToken: token, fetch: fetchImpl });
  const downloadBytes = async (file: StowageFile) => {
    const { url } = await stowage.getDownloadUrl(file.id);
    return new Uint8Array(await (await fetch(url)).arrayBuffer());
  };

  beforeAll(async () => {
    const admin = await client(tenantId, 'root', ['admin']);
    bucketId = (await admin.post('/v1/buckets', { name: 'Anything', retentionDays: 7 })).body.id;
    imagesBucketId = (
      await admin.post('/v1/buckets', {
        name: 'Images',
        allowedMimeTypes: ['image/png', 'image/jpeg'],
        maxFileSize: 1024,
      })
    ).body.id;
    stowage = clientWith();
  });

  it('uploads a small file with a presigned PUT and returns it active', async () => {
    // Prepare
    const progress: UploadProgress[] = [];
    // Act
    const file = await stowage.upload(new Blob(['hello, stowage'], { type: 'text/plain' }), {
      bucketId,
      filename: 'hello.txt',
      references: [ref],
      onProgress: (p) => progress.push(p),
    });
    // Assess
    expect(file).toMatchObject({
      status: 'active',
      originalName: 'hello.txt',
      size: 14,
      mimeType: 'text/plain',
    });
    expect(file.references).toEqual([ref]);
    expect(new TextDecoder().decode(await downloadBytes(file))).toBe('hello, stowage');
    expect(progress.at(-1)).toEqual({ loaded: 14, total: 14, fraction: 1 });
    const listed = await stowage.listFiles({ bucketId, ...ref });
    expect(listed.items.map((f) => f.id)).toContain(file.id);
  });

  it('uploads with a presigned POST form', async () => {
    const file = await stowage.upload(new Blob([png], { type: 'image/png' }), {
      bucketId,
      filename: 'dot.png',
      uploadMethod: 'POST',
    });
    expect(file).toMatchObject({ status: 'active', mimeType: 'image/png', size: png.length });
    expect(await downloadBytes(file)).toEqual(png);
  });

  it('uploads ~9 MiB as multipart, parts in parallel, with progress reaching 100%', async () => {
    // Prepare
    const bytes = patterned(9 * MiB + 123);
    let inFlight = 0;
    let maxInFlight = 0;
    const parts: number[] = [];
    const counting: typeof fetch = async (input, init) => {
      if (!isPartUrl(urlOf(input))) return fetch(input, init);
      parts.push(partNumberOf(urlOf(input)));
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      try {
        return await fetch(input, init);
      } finally {
        inFlight--;
      }
    };
    const progress: UploadProgress[] = [];
    // Act
    const file = await clientWith(counting).upload(new Blob([bytes]), {
      bucketId,
      filename: 'big.bin',
      multipart: true,
      onProgress: (p) => progress.push(p),
    });
    // Assess
    expect(file).toMatchObject({ status: 'active', size: bytes.length });
    expect(parts.sort()).toEqual([1, 2]);
    expect(maxInFlight).toBe(2);
    expect(progress.at(-1)).toEqual({ loaded: bytes.length, total: bytes.length, fraction: 1 });
    // In Node the granularity is one part: 8 MiB arrives before the whole.
    expect(progress.some((p) => p.loaded === 8 * MiB || p.loaded === MiB + 123)).toBe(true);
    expect(sameBytes(await downloadBytes(file), bytes)).toBe(true);
  });

  it('retries a failed part with backoff and still completes', async () => {
    // Prepare: the first attempt of part 2 fails as a flaky network would.
    const attempts = new Map<number, number>();
    const flaky: typeof fetch = async (input, init) => {
      const url = urlOf(input);
      if (isPartUrl(url)) {
        const n = partNumberOf(url);
        attempts.set(n, (attempts.get(n) ?? 0) + 1);
        if (n === 2 && attempts.get(n) === 1) return new Response('slow down', { status: 503 });
      }
      return fetch(input, init);
    };
    const bytes = patterned(9 * MiB);
    // Act
    const file = await clientWith(flaky).upload(new Blob([bytes]), {
      bucketId,
      filename: 'flaky.bin',
      multipart: true,
      retryDelayMs: 20,
    });
    // Assess
    expect(file.status).toBe('active');
    expect(attempts.get(1)).toBe(1);
    expect(attempts.get(2)).toBe(2);
    expect(sameBytes(await downloadBytes(file), bytes)).toBe(true);
  });

  it('gives up after the last attempt, abandons the file and throws the storage error', async () => {
    const failing: typeof fetch = async (input, init) =>
      isPartUrl(urlOf(input)) ? new Response('down', { status: 500 }) : fetch(input, init);
    let fileId = '';
    const before = await stowage.getQuota();
    const error = await clientWith(failing)
      .upload(new Blob([patterned(9 * MiB)]), {
        bucketId,
        filename: 'down.bin',
        multipart: true,
        attempts: 2,
        retryDelayMs: 5,
        onInitiated: (f) => {
          fileId = f.id;
        },
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StowageApiError);
    expect(error).toMatchObject({ status: 500, code: 'STORAGE_REJECTED' });
    expect((await stowage.getQuota()).reservedBytes).toBe(before.reservedBytes);
    await expect(stowage.getFile(fileId)).rejects.toMatchObject({ status: 404, code: 'NOT_FOUND' });
  });

  it('cancels mid-upload: requests aborted, nothing left pending, reservation released', async () => {
    // Prepare: parts hang until aborted, so the cancel lands while bytes are in flight.
    const before = await stowage.getQuota();
    const controller = new AbortController();
    let partsStarted = 0;
    let partsAborted = 0;
    const slow: typeof fetch = async (input, init) => {
      if (!isPartUrl(urlOf(input))) return fetch(input, init);
      partsStarted++;
      if (partsStarted === 2) setTimeout(() => controller.abort(), 50);
      return new Promise<Response>((_, reject) =>
        init?.signal?.addEventListener('abort', () => {
          partsAborted++;
          reject(init.signal?.reason);
        }),
      );
    };
    let fileId = '';
    let reservedWhilePending = 0;
    // Act
    const outcome = await clientWith(slow)
      .upload(new Blob([patterned(9 * MiB)]), {
        bucketId,
        filename: 'cancelled.bin',
        multipart: true,
        signal: controller.signal,
        onInitiated: (f) => {
          fileId = f.id;
          void stowage.getQuota().then((q) => {
            reservedWhilePending = q.reservedBytes;
          });
        },
      })
      .catch((e: unknown) => e);
    // Assess
    expect(outcome).toBeInstanceOf(DOMException);
    expect((outcome as DOMException).name).toBe('AbortError');
    expect(partsAborted).toBe(2);
    expect(reservedWhilePending).toBeGreaterThanOrEqual(before.reservedBytes + 9 * MiB);
    expect((await stowage.getQuota()).reservedBytes).toBe(before.reservedBytes);
    await expect(stowage.getFile(fileId)).rejects.toMatchObject({ status: 404 });
    const pending = await stowage.listFiles({ bucketId, status: 'pending' });
    expect(pending.items).toEqual([]);
  });

  it('returns a rejected file with its reason when the bytes contradict the declared type', async () => {
    const file = await stowage.upload(new Blob(['not a picture at all'], { type: 'image/png' }), {
      bucketId: imagesBucketId,
      filename: 'fake.png',
    });
    expect(file).toMatchObject({ status: 'rejected', rejectionReason: 'MIME_TYPE_MISMATCH' });
  });

  it('throws a typed StowageApiError when the service refuses the upload up front', async () => {
    const tooBig = await stowage
      .upload(new Blob([new Uint8Array(2048)], { type: 'image/png' }), { bucketId: imagesBucketId })
      .catch((e: unknown) => e);
    expect(tooBig).toBeInstanceOf(StowageApiError);
    expect(tooBig).toMatchObject({ status: 413, code: 'FILE_TOO_LARGE' });
    const wrongType = await stowage
      .upload(new Blob(['x'], { type: 'text/plain' }), { bucketId: imagesBucketId, filename: 'a.txt' })
      .catch((e: unknown) => e);
    expect(wrongType).toMatchObject({ status: 415, code: 'MIME_TYPE_NOT_ALLOWED' });
    expect((wrongType as StowageApiError).message).toEqual(expect.any(String));
  });

  it('deletes, restores and pages through files with typed calls', async () => {
    const entity = { entityType: 'ticket', entityId: 'T-paging' };
    const uploaded: StowageFile[] = [];
    for (const name of ['a.txt', 'b.txt', 'c.txt'])
      uploaded.push(
        await stowage.upload(new Blob([name], { type: 'text/plain' }), {
          bucketId,
          filename: name,
          references: [entity],
        }),
      );
    const first = await stowage.listFiles({ bucketId, ...entity, limit: 2 });
    expect(first.items).toHaveLength(2);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = await stowage.listFiles({ bucketId, ...entity, limit: 2, cursor: first.nextCursor! });
    expect([...first.items, ...second.items].map((f) => f.originalName).sort()).toEqual([
      'a.txt',
      'b.txt',
      'c.txt',
    ]);
    expect(second.nextCursor).toBeNull();

    const target = uploaded[0]!;
    await stowage.deleteFile(target.id);
    expect((await stowage.getFile(target.id)).status).toBe('deleted');
    await expect(stowage.getDownloadUrl(target.id)).rejects.toMatchObject({ status: 404 });
    expect(await stowage.restoreFile(target.id)).toMatchObject({ status: 'active' });
    expect((await stowage.listEntityFiles(entity.entityType, entity.entityId)).items).toHaveLength(3);
  });
});
