import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ChecksumAlgorithm, ChecksumValue } from './checksums.js';
import { s3Errors } from './errors.js';
import { type FsObjectStore, type ObjectProperties, readJson, writeAtomically } from './object-store-fs.js';

/**
 * Multipart uploads on the filesystem, next to the bucket's objects:
 *
 *   buckets/<bucket>/uploads/<uploadId>/upload.json              key, properties, start time
 *   buckets/<bucket>/uploads/<uploadId>/part-<n>.json            size, ETag, checksum
 *   buckets/<bucket>/uploads/<uploadId>/part-<n>.<random>.bin    the part's bytes
 *
 * Upload ids are 32 random hex characters and checked before they become a path.
 */

export interface UploadMeta {
  uploadId: string;
  key: string;
  initiated: string;
  properties: ObjectProperties;
  /** Declared on CreateMultipartUpload (x-amz-checksum-algorithm). */
  checksumAlgorithm?: ChecksumAlgorithm;
}

export interface PartMeta {
  partNumber: number;
  size: number;
  /** MD5 hex, without quotes. */
  etag: string;
  lastModified: string;
  checksum?: ChecksumValue;
  dataFile: string;
}

const UPLOAD_ID = /^[0-9a-f]{32}$/;
export const MAX_PART_NUMBER = 10_000;

export class FsUploadStore {
  constructor(private readonly objects: FsObjectStore) {}

  async create(
    bucket: string,
    key: string,
    properties: ObjectProperties,
    checksumAlgorithm?: ChecksumAlgorithm,
  ) {
    this.objects.requireBucket(bucket);
    const upload: UploadMeta = {
      uploadId: randomBytes(16).toString('hex'),
      key,
      initiated: new Date().toISOString(),
      properties,
      ...(checksumAlgorithm ? { checksumAlgorithm } : {}),
    };
    const dir = this.uploadDir(bucket, upload.uploadId);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await writeAtomically(this.objects, join(dir, 'upload.json'), JSON.stringify(upload));
    return upload;
  }

  /** The upload of this key; NoSuchUpload for an unknown id, or one made for another key. */
  async get(bucket: string, uploadId: string, key: string): Promise<UploadMeta> {
    this.objects.requireBucket(bucket);
    const upload = UPLOAD_ID.test(uploadId)
      ? await readJson<UploadMeta>(join(this.uploadDir(bucket, uploadId), 'upload.json'))
      : null;
    if (!upload || upload.key !== key) throw s3Errors.noSuchUpload(undefined, { UploadId: uploadId });
    return upload;
  }

  /** Keeps a received part (replacing an earlier one of the same number). */
  async putPart(
    bucket: string,
    upload: UploadMeta,
    tempFile: string,
    part: Omit<PartMeta, 'dataFile' | 'lastModified'>,
  ): Promise<PartMeta> {
    const dir = this.uploadDir(bucket, upload.uploadId);
    try {
      return await this.objects.withLock(uploadLock(upload.uploadId), async () => {
        // Aborted or completed while the part was arriving.
        await this.get(bucket, upload.uploadId, upload.key);
        const meta: PartMeta = {
          ...part,
          lastModified: new Date().toISOString(),
          dataFile: `part-${part.partNumber}.${randomBytes(6).toString('hex')}.bin`,
        };
        const previous = await readJson<PartMeta>(join(dir, `part-${part.partNumber}.json`));
        await rename(tempFile, join(dir, meta.dataFile));
        await writeAtomically(this.objects, join(dir, `part-${part.partNumber}.json`), JSON.stringify(meta));
        if (previous) await rm(join(dir, previous.dataFile), { force: true });
        return meta;
      });
    } finally {
      await rm(tempFile, { force: true });
    }
  }

  /** Every part received so far, by part number. */
  async parts(bucket: string, uploadId: string): Promise<PartMeta[]> {
    const dir = this.uploadDir(bucket, uploadId);
    const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => /^part-\d+\.json$/.test(n));
    const parts: PartMeta[] = [];
    for (const name of names) {
      const part = await readJson<PartMeta>(join(dir, name));
      if (part) parts.push(part);
    }
    return parts.sort((a, b) => a.partNumber - b.partNumber);
  }

  partPath(bucket: string, uploadId: string, part: PartMeta): string {
    return join(this.uploadDir(bucket, uploadId), part.dataFile);
  }

  async remove(bucket: string, uploadId: string): Promise<void> {
    await rm(this.uploadDir(bucket, uploadId), { recursive: true, force: true });
  }

  /** All uploads in progress in a bucket, by key then start time. */
  async list(bucket: string): Promise<UploadMeta[]> {
    this.objects.requireBucket(bucket);
    const root = join(this.objects.bucketDir(bucket), 'uploads');
    const ids = (await readdir(root).catch(() => [] as string[])).filter((id) => UPLOAD_ID.test(id));
    const uploads: UploadMeta[] = [];
    for (const id of ids) {
      const upload = await readJson<UploadMeta>(join(root, id, 'upload.json'));
      if (upload) uploads.push(upload);
    }
    return uploads.sort((a, b) =>
      a.key === b.key
        ? a.initiated.localeCompare(b.initiated)
        : Buffer.compare(Buffer.from(a.key), Buffer.from(b.key)),
    );
  }

  /** Serialises complete, abort and part commits of one upload. */
  withUploadLock<T>(uploadId: string, section: () => Promise<T>): Promise<T> {
    return this.objects.withLock(uploadLock(uploadId), section);
  }

  private uploadDir(bucket: string, uploadId: string): string {
    return join(this.objects.bucketDir(bucket), 'uploads', uploadId);
  }
}

const uploadLock = (uploadId: string) => `upload:${uploadId}`;
