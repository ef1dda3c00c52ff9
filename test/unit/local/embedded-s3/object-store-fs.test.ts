import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkWriteConditions } from '../../../../local/embedded-s3/conditions.js';
import { FsObjectStore, type NewObject } from '../../../../local/embedded-s3/object-store-fs.js';

let dataDir: string;
let store: FsObjectStore;

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'stowage-fs-store-'));
  store = await FsObjectStore.open(dataDir);
  await store.createBucket('bucket');
});

afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

const object = (size: number, etag = 'e'): NewObject => ({
  contentType: 'text/plain',
  metadata: {},
  tags: [],
  size,
  etag,
});

async function put(key: string, body: string, precondition?: Parameters<FsObjectStore['commit']>[4]) {
  const temp = store.tempFile();
  await writeFile(temp, body);
  return store.commit('bucket', key, temp, object(Buffer.byteLength(body), body), precondition);
}

async function read(key: string): Promise<string | null> {
  const opened = await store.open('bucket', key);
  if (!opened) return null;
  try {
    return (await opened.handle.readFile()).toString();
  } finally {
    await opened.handle.close();
  }
}

async function allFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await allFiles(path)));
    else out.push(path);
  }
  return out;
}

describe('FsObjectStore key to file mapping', () => {
  const hostile = [
    '../../../../etc/passwd',
    '..',
    '.',
    'a/../../b',
    '%2e%2e%2f%2e%2e%2fescape',
    'back\\slash\\..\\..',
    'nul\u0000byte',
    'é/日本語/😀',
    '/leading/slash',
    `${'x'.repeat(1000)}`,
  ];

  it('keeps every key, whatever its characters, inside the data dir, and reads it back exactly', async () => {
    // Act
    for (const [i, key] of hostile.entries()) await put(key, `body ${i}`);

    // Assess
    for (const [i, key] of hostile.entries()) expect(await read(key)).toBe(`body ${i}`);
    const files = await allFiles(dataDir);
    for (const file of files) expect(relative(dataDir, file).startsWith('..')).toBe(false);
    const names = files.map((file) => file.slice(dataDir.length));
    expect(names.every((name) => /^[/a-z0-9.-]+$/.test(name))).toBe(true);
  });

  it('does not answer an old s3rver layout in the same data dir', async () => {
    // Prepare: @20minutes/s3rver kept <dataDir>/<bucket>/<key>._S3rver_object.
    await mkdir(join(dataDir, 'legacy-bucket'), { recursive: true });
    await writeFile(join(dataDir, 'legacy-bucket', 'file.txt._S3rver_object'), 'old');

    // Act
    const reopened = await FsObjectStore.open(dataDir);

    // Assess
    expect(reopened.hasBucket('legacy-bucket')).toBe(false);
    expect(reopened.listBuckets().map((b) => b.name)).toEqual(['bucket']);
  });

  it('reopens with the same objects, and drops bytes a crash left without metadata', async () => {
    // Prepare
    await put('kept', 'kept');
    const shardDir = join(dataDir, 'stowage-s3-v1', 'buckets', 'bucket', 'objects', '00');
    await mkdir(shardDir, { recursive: true });
    await writeFile(join(shardDir, 'orphan.123.bin'), 'half written');
    await writeFile(join(dataDir, 'stowage-s3-v1', 'tmp', 'upload-in-flight'), 'partial');

    // Act
    const reopened = await FsObjectStore.open(dataDir);

    // Assess
    const opened = await reopened.open('bucket', 'kept');
    expect((await opened?.handle.readFile())?.toString()).toBe('kept');
    await opened?.handle.close();
    expect(await readdir(shardDir)).toEqual([]);
    expect(await readdir(join(dataDir, 'stowage-s3-v1', 'tmp'))).toEqual([]);
  });

  it('refuses bucket names that could be paths', async () => {
    for (const name of ['..', 'a/b', 'UPPER', 'ab', '.hidden', 'a..b', '192.168.0.1']) {
      await expect(store.createBucket(name)).rejects.toMatchObject({ code: 'InvalidBucketName' });
    }
  });
});

describe('FsObjectStore writes', () => {
  it('lets exactly one of many racing create-once writes win, and keeps its bytes', async () => {
    // Act
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) =>
        put('once', `writer ${i}`, (current) => checkWriteConditions(current, { ifNoneMatch: '*' })),
      ),
    );

    // Assess
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r) => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost.map((r) => (r as PromiseRejectedResult).reason.code)).toEqual(
      Array(19).fill('PreconditionFailed'),
    );
    expect(await read('once')).toBe((won[0] as PromiseFulfilledResult<{ etag: string }>).value.etag);
    expect(await readdir(join(dataDir, 'stowage-s3-v1', 'tmp'))).toEqual([]);
  });

  it('keeps the old bytes readable through an open handle while the key is replaced', async () => {
    // Prepare
    await put('doc', 'version one');
    const opened = await store.open('bucket', 'doc');

    // Act
    await put('doc', 'version two, longer');

    // Assess
    expect((await opened?.handle.readFile())?.toString()).toBe('version one');
    await opened?.handle.close();
    expect(await read('doc')).toBe('version two, longer');
    const shard = (await allFiles(join(dataDir, 'stowage-s3-v1', 'buckets', 'bucket', 'objects'))).filter(
      (f) => f.endsWith('.bin'),
    );
    expect(shard).toHaveLength(1);
    expect((await readFile(shard[0] as string)).toString()).toBe('version two, longer');
  });
});

describe('FsObjectStore listing', () => {
  const list = (query: Partial<Parameters<FsObjectStore['list']>[1]>) =>
    store.list('bucket', { prefix: '', delimiter: '', after: '', maxKeys: 1000, ...query });

  it('orders keys by their UTF-8 bytes, as S3 does (not by UTF-16 code units)', async () => {
    // U+FFFD sorts before U+1F600 in UTF-8 (EF.. < F0..), after it in UTF-16 (FFFD > D83D).
    for (const key of ['😀', '\uFFFD', 'é', 'z', 'A', 'a']) await put(key, key);
    expect(list({}).objects.map((o) => o.key)).toEqual(['A', 'a', 'z', 'é', '\uFFFD', '😀']);
  });

  it('groups by delimiter and pages through keys and common prefixes without repeating one', async () => {
    // Prepare
    for (const key of ['a/1', 'a/2', 'a/3', 'b', 'c/1', 'd', 'e/x/1']) await put(key, key);

    // Act
    const pages: { keys: string[]; prefixes: string[] }[] = [];
    let after = '';
    for (;;) {
      const page = list({ delimiter: '/', after, maxKeys: 2 });
      pages.push({ keys: page.objects.map((o) => o.key), prefixes: page.commonPrefixes });
      if (!page.isTruncated) break;
      after = page.last ?? '';
    }

    // Assess
    expect(pages).toEqual([
      { keys: ['b'], prefixes: ['a/'] },
      { keys: ['d'], prefixes: ['c/'] },
      { keys: [], prefixes: ['e/'] },
    ]);
    expect(list({ prefix: 'e/', delimiter: '/' }).commonPrefixes).toEqual(['e/x/']);
    expect(list({ prefix: 'a/', after: 'a/1' }).objects.map((o) => o.key)).toEqual(['a/2', 'a/3']);
  });

  it('forgets deleted keys and refuses to delete a bucket that still has one', async () => {
    await put('x', 'x');
    await expect(store.deleteBucket('bucket')).rejects.toMatchObject({ code: 'BucketNotEmpty' });
    await store.delete('bucket', 'x');
    await store.delete('bucket', 'x');
    expect(list({}).objects).toEqual([]);
    await store.deleteBucket('bucket');
    expect(store.hasBucket('bucket')).toBe(false);
  });
});
