import { createHash, randomBytes } from 'node:crypto';
import { type FileHandle, mkdir, open, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ChecksumValue } from './checksums.js';
import { s3Errors } from './errors.js';
import { KeyedMutex } from './keyed-mutex.js';

/**
 * Buckets and objects on the filesystem, under `<dataDir>/stowage-s3-v1/` (a versioned folder,
 * so an older layout in the same data dir, such as @20minutes/s3rver's `<dataDir>/<bucket>/`,
 * is never misread):
 *
 *   buckets/<bucket>/bucket.json                      creation date
 *   buckets/<bucket>/objects/<h0h1>/<h>.json          the object's metadata (key, size, ETag...)
 *   buckets/<bucket>/objects/<h0h1>/<h>.<random>.bin  its bytes
 *   buckets/<bucket>/uploads/<uploadId>/...           multipart uploads (upload-store-fs.ts)
 *   tmp/                                              bodies being received
 *
 * `h` is the SHA-256 of the key, so any UTF-8 key (`..`, `/`, `%2F`, NUL...) maps to a fixed,
 * safe file name. A write streams into tmp/, then, under the key's lock, renames the bytes into
 * place and atomically replaces the metadata file: readers see the old object or the new one,
 * never a half-written one. Bucket names are checked before they become directory names.
 * One process owns a data dir at a time; keys are listed from an index kept in memory.
 */

export interface Tag {
  key: string;
  value: string;
}

/** What a writer sets on an object (PUT headers, POST fields, CopyObject REPLACE, multipart). */
export interface ObjectProperties {
  contentType: string;
  contentDisposition?: string;
  contentEncoding?: string;
  contentLanguage?: string;
  cacheControl?: string;
  expires?: string;
  /** x-amz-meta-* without the prefix, names in lower case. */
  metadata: Record<string, string>;
  tags: Tag[];
}

export interface StoredChecksum extends ChecksumValue {
  type: 'FULL_OBJECT' | 'COMPOSITE';
}

export interface ObjectMeta extends ObjectProperties {
  key: string;
  size: number;
  /** Without quotes: MD5 hex, or `md5-of-part-md5s-N` for a multipart object. */
  etag: string;
  /** ISO 8601 with milliseconds. */
  lastModified: string;
  checksum?: StoredChecksum;
  /** Number of parts of a multipart object. */
  parts?: number;
  /** The bytes' file name next to the metadata file. */
  dataFile: string;
}

export type NewObject = Omit<ObjectMeta, 'key' | 'lastModified' | 'dataFile'>;

export interface ListedObject {
  key: string;
  size: number;
  etag: string;
  lastModified: string;
}

export interface ListQuery {
  prefix: string;
  delimiter: string;
  /** List keys (and common prefixes) strictly after this one. */
  after: string;
  maxKeys: number;
}

export interface ListPage {
  objects: ListedObject[];
  commonPrefixes: string[];
  isTruncated: boolean;
  /** The last key or common prefix answered: where the next page starts. */
  last: string | null;
}

export interface OpenedObject {
  meta: ObjectMeta;
  handle: FileHandle;
}

const LAYOUT = 'stowage-s3-v1';
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export function isValidBucketName(name: string): boolean {
  return BUCKET_NAME.test(name) && !name.includes('..') && !/^\d+\.\d+\.\d+\.\d+$/.test(name);
}

export class FsObjectStore {
  readonly root: string;
  private readonly buckets = new Map<string, BucketIndex>();
  private readonly locks = new KeyedMutex();

  private constructor(dataDir: string) {
    this.root = join(dataDir, LAYOUT);
  }

  /** Opens (or creates) the layout and indexes every bucket's keys. */
  static async open(dataDir: string): Promise<FsObjectStore> {
    const store = new FsObjectStore(dataDir);
    await mkdir(join(store.root, 'buckets'), { recursive: true, mode: 0o700 });
    // Bodies of requests cut off by a crash or a stop.
    await rm(join(store.root, 'tmp'), { recursive: true, force: true });
    await mkdir(join(store.root, 'tmp'), { mode: 0o700 });
    for (const entry of await readdir(join(store.root, 'buckets'), { withFileTypes: true })) {
      if (!entry.isDirectory() || !isValidBucketName(entry.name)) continue;
      const info = await readJson<{ created: string }>(join(store.bucketDir(entry.name), 'bucket.json'));
      if (!info) continue;
      store.buckets.set(entry.name, await indexBucket(store.bucketDir(entry.name), info.created));
    }
    return store;
  }

  bucketDir(bucket: string): string {
    return join(this.root, 'buckets', bucket);
  }

  /** A fresh path in tmp/ for a body being received. */
  tempFile(): string {
    return join(this.root, 'tmp', randomBytes(12).toString('hex'));
  }

  /** Runs `section` while no other write to this key (or to this name) runs. */
  withLock<T>(name: string, section: () => Promise<T>): Promise<T> {
    return this.locks.run(name, section);
  }

  hasBucket(name: string): boolean {
    return this.buckets.has(name);
  }

  /** Throws NoSuchBucket unless it exists. */
  requireBucket(name: string): void {
    if (!this.buckets.has(name)) throw s3Errors.noSuchBucket(undefined, { BucketName: name });
  }

  listBuckets(): { name: string; created: string }[] {
    return [...this.buckets.entries()]
      .map(([name, index]) => ({ name, created: index.created }))
      .sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  /** True when created, false when it already existed. */
  async createBucket(name: string): Promise<boolean> {
    if (!isValidBucketName(name)) throw s3Errors.invalidBucketName(undefined, { BucketName: name });
    return this.withLock(`bucket:${name}`, async () => {
      if (this.buckets.has(name)) return false;
      const dir = this.bucketDir(name);
      await mkdir(join(dir, 'objects'), { recursive: true, mode: 0o700 });
      const created = new Date().toISOString();
      await writeAtomically(this, join(dir, 'bucket.json'), JSON.stringify({ created }));
      this.buckets.set(name, new BucketIndex(created));
      return true;
    });
  }

  async deleteBucket(name: string): Promise<void> {
    await this.withLock(`bucket:${name}`, async () => {
      const index = this.buckets.get(name);
      if (!index) throw s3Errors.noSuchBucket(undefined, { BucketName: name });
      if (index.size > 0) throw s3Errors.bucketNotEmpty(undefined, { BucketName: name });
      this.buckets.delete(name);
      await rm(this.bucketDir(name), { recursive: true, force: true });
    });
  }

  /** The object's metadata, or null when there is none. */
  async head(bucket: string, key: string): Promise<ObjectMeta | null> {
    this.requireBucket(bucket);
    const meta = await readJson<ObjectMeta>(this.metaPath(bucket, key));
    return meta && meta.key === key ? meta : null;
  }

  /** Metadata plus an open handle on the bytes (safe against a concurrent overwrite). */
  async open(bucket: string, key: string): Promise<OpenedObject | null> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const meta = await this.head(bucket, key);
      if (!meta) return null;
      try {
        return { meta, handle: await open(join(this.objectDir(bucket, key), meta.dataFile), 'r') };
      } catch (error) {
        // Replaced between reading the metadata and opening the bytes: read the new one.
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
    }
    throw s3Errors.internal();
  }

  /**
   * Makes `tempFile` the object's bytes. `precondition` sees the current object under the key's
   * lock and throws to refuse (If-None-Match, If-Match); the temp file is removed either way.
   */
  async commit(
    bucket: string,
    key: string,
    tempFile: string,
    object: NewObject,
    precondition: (current: ObjectMeta | null) => void = () => undefined,
  ): Promise<ObjectMeta> {
    try {
      return await this.withLock(objectLock(bucket, key), async () => {
        const current = await this.head(bucket, key);
        precondition(current);
        const dir = this.objectDir(bucket, key);
        await mkdir(dir, { recursive: true, mode: 0o700 });
        const meta: ObjectMeta = {
          ...object,
          key,
          lastModified: new Date().toISOString(),
          dataFile: `${keyHash(key)}.${randomBytes(6).toString('hex')}.bin`,
        };
        await rename(tempFile, join(dir, meta.dataFile));
        await writeAtomically(this, this.metaPath(bucket, key), JSON.stringify(meta));
        if (current) await rm(join(dir, current.dataFile), { force: true });
        this.index(bucket).put(meta);
        return meta;
      });
    } finally {
      await rm(tempFile, { force: true });
    }
  }

  /** Changes metadata only (tags), keeping bytes, ETag and Last-Modified. */
  async update(bucket: string, key: string, change: (meta: ObjectMeta) => ObjectMeta): Promise<ObjectMeta> {
    return this.withLock(objectLock(bucket, key), async () => {
      const current = await this.head(bucket, key);
      if (!current) throw s3Errors.noSuchKey(undefined, { Key: key });
      const next = change(current);
      await writeAtomically(this, this.metaPath(bucket, key), JSON.stringify(next));
      return next;
    });
  }

  /** Removes the object; nothing to do for a missing key (S3 answers 204 either way). */
  async delete(bucket: string, key: string): Promise<void> {
    this.requireBucket(bucket);
    await this.withLock(objectLock(bucket, key), async () => {
      const current = await this.head(bucket, key);
      if (!current) return;
      await rm(this.metaPath(bucket, key), { force: true });
      await rm(join(this.objectDir(bucket, key), current.dataFile), { force: true });
      this.index(bucket).remove(key);
    });
  }

  list(bucket: string, query: ListQuery): ListPage {
    this.requireBucket(bucket);
    return this.index(bucket).list(query);
  }

  private index(bucket: string): BucketIndex {
    const index = this.buckets.get(bucket);
    if (!index) throw s3Errors.noSuchBucket(undefined, { BucketName: bucket });
    return index;
  }

  private objectDir(bucket: string, key: string): string {
    return join(this.bucketDir(bucket), 'objects', keyHash(key).slice(0, 2));
  }

  private metaPath(bucket: string, key: string): string {
    return join(this.objectDir(bucket, key), `${keyHash(key)}.json`);
  }
}

/** Writes a small file by renaming a complete temp file over it. */
export async function writeAtomically(store: FsObjectStore, path: string, text: string): Promise<void> {
  const temp = store.tempFile();
  await writeFile(temp, text, { mode: 0o600 });
  try {
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

export async function readJson<T>(path: string): Promise<T | null> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

const objectLock = (bucket: string, key: string) => `object:${bucket}/${key}`;

function keyHash(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** Reads every metadata file of a bucket; drops byte files no metadata names (a crash mid-write). */
async function indexBucket(dir: string, created: string): Promise<BucketIndex> {
  const index = new BucketIndex(created);
  const objects = join(dir, 'objects');
  await mkdir(objects, { recursive: true, mode: 0o700 });
  for (const shard of await readdir(objects)) {
    const names = await readdir(join(objects, shard));
    const referenced = new Set<string>();
    for (const name of names.filter((n) => n.endsWith('.json'))) {
      const meta = await readJson<ObjectMeta>(join(objects, shard, name));
      if (!meta) continue;
      referenced.add(meta.dataFile);
      index.put(meta);
    }
    for (const name of names.filter((n) => n.endsWith('.bin') && !referenced.has(n))) {
      await rm(join(objects, shard, name), { force: true });
    }
  }
  return index;
}

interface IndexEntry extends ListedObject {
  bytes: Buffer;
}

/** A bucket's keys in S3's order (UTF-8 bytes), for listing. */
class BucketIndex {
  private readonly entries: IndexEntry[] = [];

  constructor(readonly created: string) {}

  get size(): number {
    return this.entries.length;
  }

  put(meta: ObjectMeta): void {
    const entry: IndexEntry = {
      key: meta.key,
      bytes: Buffer.from(meta.key, 'utf8'),
      size: meta.size,
      etag: meta.etag,
      lastModified: meta.lastModified,
    };
    const at = this.lowerBound(entry.bytes);
    if (this.entries[at]?.key === meta.key) this.entries[at] = entry;
    else this.entries.splice(at, 0, entry);
  }

  remove(key: string): void {
    const at = this.lowerBound(Buffer.from(key, 'utf8'));
    if (this.entries[at]?.key === key) this.entries.splice(at, 1);
  }

  list(query: ListQuery): ListPage {
    const page: ListPage = { objects: [], commonPrefixes: [], isTruncated: false, last: null };
    const after = Buffer.from(query.after, 'utf8');
    let at = this.lowerBound(Buffer.from(query.prefix, 'utf8'));
    if (query.after !== '') at = Math.max(at, this.upperBound(after));
    // The continuation point may itself be a common prefix: never answer it twice.
    let lastPrefix: string | null = query.after;
    for (; at < this.entries.length; at++) {
      const entry = this.entries[at] as IndexEntry;
      if (!entry.key.startsWith(query.prefix)) break;
      let item: { prefix: string } | { object: IndexEntry } = { object: entry };
      if (query.delimiter !== '') {
        const cut = entry.key.indexOf(query.delimiter, query.prefix.length);
        if (cut !== -1) {
          const prefix = entry.key.slice(0, cut + query.delimiter.length);
          if (prefix === lastPrefix) continue;
          item = { prefix };
        }
      }
      if (page.objects.length + page.commonPrefixes.length >= query.maxKeys) {
        page.isTruncated = true;
        break;
      }
      if ('prefix' in item) {
        page.commonPrefixes.push(item.prefix);
        lastPrefix = item.prefix;
        page.last = item.prefix;
      } else {
        const { bytes: _bytes, ...listed } = item.object;
        page.objects.push(listed);
        page.last = listed.key;
      }
    }
    return page;
  }

  /** The first index whose key is >= bytes. */
  private lowerBound(bytes: Buffer): number {
    let lo = 0;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (Buffer.compare((this.entries[mid] as IndexEntry).bytes, bytes) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The first index whose key is > bytes. */
  private upperBound(bytes: Buffer): number {
    const at = this.lowerBound(bytes);
    return (this.entries[at] as IndexEntry | undefined)?.bytes.equals(bytes) ? at + 1 : at;
  }
}
