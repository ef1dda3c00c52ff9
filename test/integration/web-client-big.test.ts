import { randomBytes } from 'node:crypto';
import { openAsBlob } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { mintDevToken } from '../../local/dev-token.js';
import { type LocalStack, startLocalStack } from '../../local/stack.js';
import {
  createStowageClient,
  type ResumedUpload,
  type ResumeRecord,
  type SendBytes,
  StowageApiError,
  type StowageClient,
  type StowageFile,
} from '../../web/client/index.js';
import { fetchSendBytes } from '../../web/client/send-bytes.js';
import { client, newTenant } from '../support/api.js';

/**
 * Big uploads through the web client in Node (API.md 13.2): part URLs asked for as it goes and
 * again when one expired, every part's SHA-256 checked by storage, and resume after a lost
 * connection sending only what storage lacks. Files come from disk (`fs.openAsBlob`), one part
 * read at a time.
 */
const MiB = 1024 * 1024;
const PART = 8 * MiB;

const patterned = (size: number, seed = 7) => {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + seed + (i >> 13)) & 0xff;
  return bytes;
};
const sameBytes = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));
const urlOf = (input: Parameters<typeof fetch>[0]) =>
  typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
const partNumberOf = (url: string) => {
  const m = /[?&]partNumber=(\d+)/.exec(url);
  return m && /[?&]uploadId=/.test(url) ? Number(m[1]) : null;
};
/** The part numbers of every `upload/parts` request the client made. */
const askedFor = (calls: { url: string; body: string }[]) =>
  calls
    .filter((c) => c.url.endsWith('/upload/parts'))
    .map((c) => JSON.parse(c.body) as { partNumbers: number[]; partSha256?: string[] });

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stowage-big-client-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Writes the bytes to a temp file and answers it as a Blob read from disk on demand. */
async function onDisk(name: string, bytes: Uint8Array): Promise<Blob> {
  const path = join(dir, `${name}-${randomBytes(3).toString('hex')}`);
  await writeFile(path, bytes);
  return openAsBlob(path, { type: 'application/octet-stream' });
}

async function setUp(baseUrl: string, label: string) {
  const tenantId = newTenant(label);
  const admin = await client(tenantId, 'root', ['admin'], baseUrl);
  const bucketId = (await admin.post('/v1/buckets', { name: 'Big' })).body.id as string;
  const token = () => mintDevToken({ tenantId, userId: 'alice', roles: ['member'] });
  const calls: { url: string; body: string }[] = [];
  const recording =
    (inner: typeof fetch = fetch): typeof fetch =>
    async (input, init) => {
      calls.push({ url: urlOf(input), body: typeof init?.body === 'string' ? init.body : '' });
      return inner(input, init);
    };
  const clientWith = (fetchImpl?: typeof fetch): StowageClient =>
    createStowageClient({ baseUrl, getToken: token, fetch: recording(fetchImpl) });
  const downloadBytes = async (file: StowageFile) => {
    const { url } = await clientWith().getDownloadUrl(file.id);
    return new Uint8Array(await (await fetch(url)).arrayBuffer());
  };
  return { bucketId, calls, clientWith, downloadBytes };
}

describe('part URLs that expire on the way (FILESTORE_PART_URL_TTL_SECONDS=3)', () => {
  let stack: LocalStack;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'stowage-ttl-'));
    stack = await startLocalStack({
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        NODE_OPTIONS: process.env.NODE_OPTIONS,
        FILESTORE_PART_URL_TTL_SECONDS: '3',
      },
      port: 0,
      dataDir,
      inMemoryDynamo: true,
      maintenanceIntervalMs: 0,
    });
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('asks again for a part whose URL expired while it waited, and completes with every part checked', async () => {
    // Prepare: five parts, two at a time; part 3 waits 4 s (a stalled line) before it goes.
    const { bucketId, calls, clientWith, downloadBytes } = await setUp(stack.url, 'ttl');
    const bytes = patterned(4 * PART + 1000);
    const file = await onDisk('ttl.bin', bytes);
    const answers: { part: number; status: number; checksum: boolean }[] = [];
    let stalled = false;
    const slowLine: typeof fetch = async (input, init) => {
      const part = partNumberOf(urlOf(input));
      if (part === null) return fetch(input, init);
      if (part === 3 && !stalled) {
        stalled = true;
        await new Promise((done) => setTimeout(done, 4000));
      }
      const res = await fetch(input, init);
      const headers = new Headers(init?.headers);
      answers.push({ part, status: res.status, checksum: headers.has('x-amz-checksum-sha256') });
      return res;
    };

    // Act
    const done = await clientWith(slowLine).upload(file, {
      bucketId,
      filename: 'ttl.bin',
      multipart: true,
      concurrency: 2,
    });

    // Assess: storage refused the expired URL, a fresh one was asked for, and everything arrived.
    expect(done).toMatchObject({ status: 'active', size: bytes.length });
    expect(answers.filter((a) => a.part === 3).map((a) => a.status)).toEqual([403, 200]);
    const asked = askedFor(calls);
    expect(asked.filter((body) => body.partNumbers.includes(3)).length).toBeGreaterThanOrEqual(1);
    expect(asked.every((body) => body.partSha256?.length === body.partNumbers.length)).toBe(true);
    expect(answers.every((a) => a.checksum)).toBe(true);
    expect(
      answers
        .filter((a) => a.status === 200)
        .map((a) => a.part)
        .sort(),
    ).toEqual([1, 2, 3, 4, 5]);
    expect(sameBytes(await downloadBytes(done), bytes)).toBe(true);
  });
});

describe('big uploads through the web client against the local stack', () => {
  let env: Awaited<ReturnType<typeof setUp>>;
  beforeAll(async () => {
    env = await setUp(inject('apiUrl'), 'bigc');
  });

  it('asks for part URLs a window ahead, never all at once, and sends each part once', async () => {
    // Prepare: twelve parts, more than initiate signs and more than one window.
    const bytes = patterned(11 * PART + 5);
    const file = await onDisk('twelve.bin', bytes);
    env.calls.length = 0;
    const puts: number[] = [];
    const counting: typeof fetch = async (input, init) => {
      const part = partNumberOf(urlOf(input));
      if (part !== null) puts.push(part);
      return fetch(input, init);
    };

    // Act
    const done = await env.clientWith(counting).upload(file, { bucketId: env.bucketId, multipart: true });

    // Assess
    expect(done.status).toBe('active');
    expect(puts.sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    const initiate = env.calls.find((c) => c.url.endsWith('/uploads'));
    expect(JSON.parse(initiate?.body ?? '{}').partSha256).toHaveLength(4);
    const asked = askedFor(env.calls);
    expect(asked.length).toBeGreaterThanOrEqual(1);
    expect(Math.max(...asked.map((b) => b.partNumbers.length))).toBeLessThanOrEqual(8);
    expect(asked.flatMap((b) => b.partNumbers).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 8 }, (_, i) => i + 5),
    );
    expect(sameBytes(await env.downloadBytes(done), bytes)).toBe(true);
  });

  it('refuses a part whose bytes are not the ones hashed: storage answers, the file is abandoned', async () => {
    // Prepare: part 2 leaves with other bytes of the same length (the file changed under us).
    const bytes = patterned(2 * PART + 10);
    const file = await onDisk('wrong.bin', bytes);
    const store = new Map<string, ResumeRecord>();
    const base = fetchSendBytes(fetch);
    const tampering: SendBytes = (req) =>
      partNumberOf(req.url) === 2 ? base({ ...req, body: new Blob([randomBytes(PART)]) }) : base(req);
    let fileId = '';

    // Act
    const error = await env
      .clientWith()
      .upload(file, {
        bucketId: env.bucketId,
        multipart: true,
        resume: store,
        sendBytes: tampering,
        onInitiated: (f) => {
          fileId = f.id;
        },
      })
      .catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(StowageApiError);
    expect(error).toMatchObject({ status: 400, code: 'STORAGE_REJECTED' });
    expect(JSON.stringify((error as StowageApiError).details)).toMatch(/BadDigest/);
    await expect(env.clientWith().getFile(fileId)).rejects.toMatchObject({ status: 404 });
    expect(store.size).toBe(0);
  });

  it('resumes after the connection was lost mid-upload, sending only the missing parts', async () => {
    // Prepare: six parts; after three arrive the network goes away.
    const bytes = patterned(5 * PART + 100, 11);
    const path = await onDisk('resume.bin', bytes);
    const store = new Map<string, ResumeRecord>();
    let arrived = 0;
    const dropping: typeof fetch = async (input, init) => {
      if (partNumberOf(urlOf(input)) === null) return fetch(input, init);
      if (arrived >= 3) throw new TypeError('fetch failed');
      const res = await fetch(input, init);
      if (res.ok) arrived++;
      return res;
    };
    const opts = {
      bucketId: env.bucketId,
      filename: 'resume.bin',
      lastModified: 1_700_000_000_000,
      multipart: true,
    };
    const first = await env
      .clientWith(dropping)
      .upload(path, { ...opts, resume: store, concurrency: 1, attempts: 2, retryDelayMs: 5 })
      .catch((e: unknown) => e);
    expect(first).toBeInstanceOf(Error);
    const [record] = [...store.values()];
    const held = await env.clientWith().getUploadProgress(record?.fileId ?? '');
    const heldParts = held.uploaded.map((p) => p.partNumber);
    expect(heldParts).toEqual([1, 2, 3]);

    // Act: the same file again, with a new client, as after a restart.
    const puts: number[] = [];
    const counting: typeof fetch = async (input, init) => {
      const part = partNumberOf(urlOf(input));
      if (part !== null) puts.push(part);
      return fetch(input, init);
    };
    const resumed: ResumedUpload[] = [];
    const progress: number[] = [];
    const done = await env.clientWith(counting).upload(await onDisk('resume.bin', bytes), {
      ...opts,
      resume: store,
      onResumed: (r) => resumed.push(r),
      onProgress: (p) => progress.push(p.loaded),
    });

    // Assess
    expect(done).toMatchObject({ id: record?.fileId, status: 'active', size: bytes.length });
    expect(puts.sort()).toEqual([4, 5, 6]);
    expect(resumed).toEqual([
      { fileId: record?.fileId, partCount: 6, partsStored: 3, bytesStored: 3 * PART },
    ]);
    expect(progress[0]).toBe(0);
    expect(progress).toContain(3 * PART);
    expect(new Set(progress).size).toBe(progress.length);
    expect(progress.at(-1)).toBe(bytes.length);
    expect(store.size).toBe(0);
    expect(sameBytes(await env.downloadBytes(done), bytes)).toBe(true);
  });

  it('starts afresh when the remembered upload is gone, and forgets it', async () => {
    // Prepare: an interrupted upload, then abandoned by someone else.
    const bytes = patterned(PART + 50, 3);
    const file = await onDisk('gone.bin', bytes);
    const store = new Map<string, ResumeRecord>();
    const opts = { bucketId: env.bucketId, filename: 'gone.bin', lastModified: 1, resume: store };
    const offline: typeof fetch = async (input, init) => {
      if (partNumberOf(urlOf(input)) !== null) throw new TypeError('fetch failed');
      return fetch(input, init);
    };
    await env
      .clientWith(offline)
      .upload(file, { ...opts, multipart: true, attempts: 1 })
      .catch(() => undefined);
    const [record] = [...store.values()];
    expect(record).toBeDefined();
    await env.clientWith().abandonUpload(record?.fileId ?? '');
    const resumed: ResumedUpload[] = [];

    // Act
    const done = await env
      .clientWith()
      .upload(file, { ...opts, multipart: true, onResumed: (r) => resumed.push(r) });

    // Assess
    expect(done.status).toBe('active');
    expect(done.id).not.toBe(record?.fileId);
    expect(resumed).toEqual([]);
    expect(store.size).toBe(0);
  });

  it('does not take up a remembered upload for a file of the same name, size and date but other bytes', async () => {
    const store = new Map<string, ResumeRecord>();
    const opts = { bucketId: env.bucketId, filename: 'same.bin', lastModified: 2, resume: store };
    const offline: typeof fetch = async (input, init) => {
      if (partNumberOf(urlOf(input)) !== null) throw new TypeError('fetch failed');
      return fetch(input, init);
    };
    await env
      .clientWith(offline)
      .upload(await onDisk('a', patterned(PART + 50, 1)), { ...opts, multipart: true, attempts: 1 })
      .catch(() => undefined);
    const other = await onDisk('b', patterned(PART + 50, 2));

    expect(await env.clientWith().findResumableUpload(other, opts)).toBeNull();
    const done = await env.clientWith().upload(other, { ...opts, multipart: true });
    expect(done.status).toBe('active');
    expect(sameBytes(await env.downloadBytes(done), patterned(PART + 50, 2))).toBe(true);
  });
});
