/** What is kept of a multipart upload so the same file can finish it after a reload or a crash. */
export interface ResumeRecord {
  fileId: string;
  uploadId: string;
  partSize: number;
  size: number;
  name: string;
  lastModified: number;
  bucketId: string;
  /** Hex SHA-256 of the file's first part: a file of the same name, size and date but other bytes does not match. */
  firstPartSha256: string;
  /** Whether the upload was started with part checksums (each part URL then needs its SHA-256). */
  partChecksums: boolean;
}

/**
 * Where resume records live: `localStorage` in browsers (`localStorageResumeStore`), anything
 * with these three methods in Node (a `Map` will do; a file or a database survives a crash).
 */
export interface ResumeStore {
  get(key: string): ResumeRecord | null | undefined | Promise<ResumeRecord | null | undefined>;
  set(key: string, record: ResumeRecord): unknown;
  delete(key: string): unknown;
}

const PREFIX = 'stowage-upload:';

/** The record's key: the bucket and the file's name, size and date (its bytes are checked on use). */
export const resumeKey = (bucketId: string, name: string, size: number, lastModified: number): string =>
  `${bucketId}/${size}/${lastModified}/${name}`;

/** Records in `localStorage`, JSON under `stowage-upload:<key>`; a full or blocked storage loses only the resume. */
export function localStorageResumeStore(storage: Storage = globalThis.localStorage): ResumeStore {
  return {
    get(key) {
      try {
        const text = storage.getItem(PREFIX + key);
        return text ? (JSON.parse(text) as ResumeRecord) : null;
      } catch {
        return null;
      }
    },
    set(key, record) {
      try {
        storage.setItem(PREFIX + key, JSON.stringify(record));
      } catch {
        // quota or privacy mode: the upload goes on, it just cannot be resumed
      }
    },
    delete(key) {
      try {
        storage.removeItem(PREFIX + key);
      } catch {
        // as above
      }
    },
  };
}

/** The default: `localStorage` where there is one (browsers), none elsewhere. */
export function defaultResumeStore(): ResumeStore | null {
  try {
    return typeof globalThis.localStorage === 'undefined' ? null : localStorageResumeStore();
  } catch {
    return null; // a sandboxed frame throws on access
  }
}
