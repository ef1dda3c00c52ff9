import { beforeAll, describe, expect, inject, it } from 'vitest';
import { mintDevToken } from '../../local/dev-token.js';
import {
  createStowageClient,
  fetchSendBytes,
  type SendBytes,
  type StowageClient,
  type UploadOptions,
} from '../../web/client/index.js';
import { client, newTenant } from '../support/api.js';

const MiB = 1024 * 1024;
const urlOf = (input: Parameters<typeof fetch>[0]) =>
  typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
const isInitiate = (input: Parameters<typeof fetch>[0], init?: RequestInit) =>
  init?.method === 'POST' && /\/v1\/buckets\/[^/]+\/uploads$/.test(new URL(urlOf(input)).pathname);

/**
 * Bytes sent as a browser's XMLHttpRequest reports them: progress events through the body, the
 * last one at its whole length, then the answer (here the real one, from the embedded store).
 */
const xhrLike: SendBytes = async (request) => {
  const total = request.body instanceof Blob ? request.body.size : 1000;
  for (const step of [0, 0.25, 0.5, 0.75, 1]) request.onProgress?.(Math.round(step * total), total);
  return fetchSendBytes(fetch)(request);
};

describe('web client progress and cancel, against the local stack', () => {
  const tenantId = newTenant('wcpc');
  let stowage: StowageClient;
  let bucketId: string;
  const clientWith = (fetchImpl?: typeof fetch) =>
    createStowageClient({
      baseUrl: inject('apiUrl'),
      getToken: () => mintDevToken({ tenantId, userId: 'alice', roles: ['member'] }),
      fetch: fetchImpl,
    });

  beforeAll(async () => {
    const admin = await client(tenantId, 'root', ['admin']);
    bucketId = (await admin.post('/v1/buckets', { name: 'Anything' })).body.id;
    stowage = clientWith();
  });

  const cases: Array<[string, number, Partial<UploadOptions>]> = [
    ['a presigned PUT', 300_000, {}],
    ['a presigned POST form', 300_000, { uploadMethod: 'POST' }],
    ['a multipart upload', 9 * MiB + 17, { multipart: true, concurrency: 2 }],
  ];
  for (const [name, size, extra] of cases)
    it(`reports each progress value once, rising from 0 to the size, for ${name}`, async () => {
      // Prepare
      const loaded: number[] = [];
      // Act
      const file = await stowage.upload(new Blob([new Uint8Array(size)]), {
        bucketId,
        filename: 'progress.bin',
        sendBytes: xhrLike,
        onProgress: (p) => loaded.push(p.loaded),
        ...extra,
      });
      // Assess: a progress bar gets a new value each time, never the same one again.
      expect(file).toMatchObject({ status: 'active', size });
      expect(loaded[0]).toBe(0);
      expect(loaded.at(-1)).toBe(size);
      expect(loaded.length).toBeGreaterThan(2);
      for (let i = 1; i < loaded.length; i++) expect(loaded[i]).toBeGreaterThan(loaded[i - 1] as number);
    });

  it('cancelled while initiate is in flight: abandons the file it answers, nothing stays reserved', async () => {
    // Prepare: the service takes the POST and answers it whatever the caller does (as once the
    // request is on the wire); the caller cancels before that answer arrives.
    const before = await stowage.getQuota();
    const controller = new AbortController();
    let served: Promise<Response> | undefined;
    const cancelDuringInitiate: typeof fetch = (input, init) => {
      if (!isInitiate(input, init)) return fetch(input, init);
      const { signal, ...sent } = init ?? {};
      served = fetch(input, sent);
      controller.abort();
      return new Promise<Response>((resolve, reject) => {
        if (signal?.aborted) reject(signal.reason);
        signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
        served?.then(resolve, reject);
      });
    };
    let initiated = false;
    // Act
    const outcome = await clientWith(cancelDuringInitiate)
      .upload(new Blob([new Uint8Array(2 * MiB)]), {
        bucketId,
        filename: 'cancelled-early.bin',
        signal: controller.signal,
        onInitiated: () => {
          initiated = true;
        },
      })
      .catch((e: unknown) => e);
    // Assess
    expect(outcome).toBeInstanceOf(DOMException);
    expect((outcome as DOMException).name).toBe('AbortError');
    expect((await served)?.status).toBe(201);
    expect(initiated).toBe(false);
    expect((await stowage.getQuota()).reservedBytes).toBe(before.reservedBytes);
    expect((await stowage.listFiles({ bucketId, status: 'pending' })).items).toEqual([]);
  });
});
