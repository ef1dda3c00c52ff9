import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { AuditEvent, Bucket, FileRecord } from '../../../shared/domain/model.js';
import type { ObjectHead, ObjectStore } from '../../../shared/ports/object-store.js';
import type { MetadataStore } from '../../../shared/ports/repositories.js';
import type { ServiceDeps } from '../../../shared/services/index.js';
import { ValidationService } from '../../../shared/services/validation-service.js';

// API.md section 6, step 1: validation reads the size and only the first bytes, whatever the size.

const GiB = 1024 ** 3;
const PDF_START = Buffer.from(
  '%PDF-1.7\n%\xE2\xE3\xCF\xD3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n',
  'latin1',
);

const bucket: Bucket = {
  id: 'bkt1',
  name: 'Archive',
  providerId: 'default',
  path: '/',
  allowedMimeTypes: ['application/pdf'],
  maxFileSize: 10 * GiB,
  retentionDays: 30,
  restricted: false,
  deleteUnreferenced: false,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
};

const pendingFile = (size: number, sha256: string | null = null): FileRecord => ({
  id: '01FILE',
  tenantId: 'acme',
  bucketId: bucket.id,
  providerId: 'default',
  originalName: 'scan.pdf',
  mimeType: 'application/pdf',
  declaredMimeType: 'application/pdf',
  size,
  sha256,
  status: 'pending',
  rejectionReason: null,
  uploadedBy: 'alice',
  createdAt: '2026-11-28T14:00:00.000Z',
  updatedAt: '2026-11-28T14:00:00.000Z',
  deletedAt: null,
  uploadExpiresAt: '2026-11-28T15:00:00.000Z',
  multipart: null,
  references: [],
  objectKey: 'tenants/acme/bkt1/01FILE',
  validatedObject: null,
});

/** A store holding one big object, recording every read. */
function bigObjectStore(size: number) {
  const reads: { op: string; length?: number }[] = [];
  const head: ObjectHead = {
    size,
    contentType: 'application/pdf',
    etag: '"e"',
    versionId: null,
    checksumSha256Base64: null,
    lastModified: null,
  };
  const store = {
    head: async () => head,
    readFirstBytes: async (_key: string, length: number) => {
      reads.push({ op: 'readFirstBytes', length });
      return new Uint8Array(PDF_START.subarray(0, length));
    },
    stream: async () => {
      reads.push({ op: 'stream' });
      throw new Error('the whole object must not be read');
    },
  } as unknown as ObjectStore;
  return { store, reads };
}

function validationWith(store: ObjectStore, activateAnswers: boolean[]) {
  const events: AuditEvent[] = [];
  const logged: { message: string; fields?: Record<string, unknown> }[] = [];
  const metadata = {
    buckets: { get: async () => bucket },
    files: {
      // A transition's event is written only when it applies, as in one transaction.
      activate: async (_file: FileRecord, _changes: unknown, event?: AuditEvent) => {
        const applied = activateAnswers.shift() ?? false;
        if (applied && event) events.push(event);
        return applied;
      },
      reject: async (...args: unknown[]) => {
        const event = args[4] as AuditEvent | undefined;
        if (event) events.push(event);
        return true;
      },
      get: async () => ({ ...pendingFile(1), status: 'active' }),
    },
    events: { record: async (_t: string, event: AuditEvent) => void events.push(event) },
  } as unknown as MetadataStore;
  const deps = {
    metadata,
    stores: { defaultStore: () => store, forProvider: async () => store },
    clock: { now: () => new Date('2026-11-28T14:05:00.000Z') },
    ids: { next: () => '01EVENT' },
    logger: {
      info: (message: string, fields?: Record<string, unknown>) => void logged.push({ message, fields }),
      warn() {},
      error() {},
    },
    settings: {
      maxFileSize: 10 * GiB,
      sniffBytes: 4100,
      quarantineRejected: true,
    },
  } as unknown as ServiceDeps;
  return { validation: new ValidationService(deps), events, logged };
}

describe('ValidationService.validateArrival', () => {
  it('activates a 5 GiB PDF after a ranged read of its first bytes only', async () => {
    const size = 5 * GiB;
    const { store, reads } = bigObjectStore(size);
    const { validation, events } = validationWith(store, [true]);
    const outcome = await validation.validateArrival(pendingFile(size), 'system');
    expect(outcome).toMatchObject({
      kind: 'active',
      file: { status: 'active', mimeType: 'application/pdf' },
    });
    expect(reads).toEqual([{ op: 'readFirstBytes', length: 4100 }]);
    expect(events).toEqual([expect.objectContaining({ type: 'upload.completed', actor: 'system' })]);
  });

  it('records nothing when another delivery activated the file first', async () => {
    const { store } = bigObjectStore(100);
    const { validation, events, logged } = validationWith(store, [false]);
    const outcome = await validation.validateArrival(pendingFile(100), 'system');
    expect(outcome).toMatchObject({ kind: 'settled', file: { status: 'active' } });
    expect(events).toEqual([]);
    expect(logged).toEqual([]);
  });
});

describe('the outcome log line (the dashboard counts accepted and rejected uploads from it)', () => {
  it('says active, with the file id and no tenant id', async () => {
    const { store } = bigObjectStore(100);
    const { validation, logged } = validationWith(store, [true]);
    await validation.validateArrival(pendingFile(100), 'system');
    expect(logged).toEqual([
      {
        message: 'upload validated',
        fields: { outcome: 'active', fileId: '01FILE', size: 100, latencyMs: expect.any(Number) },
      },
    ]);
  });

  it('says rejected, with the reason', async () => {
    const { store } = bigObjectStore(101);
    const { validation, logged } = validationWith(store, []);
    const outcome = await validation.validateArrival(pendingFile(100), 'system');
    expect(outcome.kind).toBe('rejected');
    expect(logged).toEqual([
      {
        message: 'upload validated',
        fields: expect.objectContaining({ outcome: 'rejected', reason: 'SIZE_MISMATCH', fileId: '01FILE' }),
      },
    ]);
    expect(JSON.stringify(logged)).not.toContain('acme');
  });
});

// API.md 13.1 and issue 9: reads are held to the object validation saw, checksums nobody
// verified are computed, and objects no pending file waits for are removed.

/** A store holding `bytes` at every key as one object, recording what is asked of it. */
function recordingStore(bytes: Buffer, head: Partial<ObjectHead> = {}) {
  const calls: { op: string; key?: string; version?: unknown; versionId?: string }[] = [];
  const store = {
    head: async () => ({
      size: bytes.length,
      contentType: 'application/pdf',
      etag: '"v-etag"',
      versionId: 'v-1',
      checksumSha256Base64: null,
      lastModified: null,
      ...head,
    }),
    readFirstBytes: async (key: string, length: number, version?: unknown) => {
      calls.push({ op: 'readFirstBytes', key, version });
      return new Uint8Array(bytes.subarray(0, length));
    },
    stream: async (key: string, version?: unknown) => {
      calls.push({ op: 'stream', key, version });
      return Readable.from([bytes]);
    },
    copy: async (input: { sourceKey: string; destinationKey: string }) =>
      void calls.push({ op: 'copy', key: input.destinationKey }),
    delete: async (key: string, versionId?: string) => void calls.push({ op: 'delete', key, versionId }),
    tag: async (input: { key: string; versionId?: string; tags: Record<string, string> }) =>
      void calls.push({ op: 'tag', key: input.key, versionId: input.versionId, version: input.tags }),
  } as unknown as ObjectStore;
  return { store, calls };
}

/** Validation over one stored file record whose transitions apply in memory. */
function validationOver(store: ObjectStore, record: FileRecord | null) {
  let current = record ? structuredClone(record) : null;
  const events: AuditEvent[] = [];
  const activations: unknown[] = [];
  const metadata = {
    buckets: { get: async () => bucket },
    files: {
      get: async () => (current ? structuredClone(current) : null),
      activate: async (_file: FileRecord, changes: { mimeType: string; validatedObject: unknown }) => {
        activations.push(changes);
        if (current?.status !== 'pending') return false;
        current = { ...current, status: 'active', mimeType: changes.mimeType };
        return true;
      },
      reject: async (_file: FileRecord, reason: FileRecord['rejectionReason']) => {
        if (current?.status !== 'pending') return false;
        current = { ...current, status: 'rejected', rejectionReason: reason };
        return true;
      },
    },
    events: { record: async (_t: string, event: AuditEvent) => void events.push(event) },
  } as unknown as MetadataStore;
  const deps = {
    metadata,
    stores: { defaultStore: () => store, forProvider: async () => store },
    clock: { now: () => new Date('2026-11-28T14:05:00.000Z') },
    ids: { next: () => '01EVENT' },
    logger: { info() {}, warn() {}, error() {} },
    settings: { maxFileSize: 10 * GiB, sniffBytes: 4100, quarantineRejected: true },
  } as unknown as ServiceDeps;
  return { validation: new ValidationService(deps), events, activations };
}

const sha256Hex = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

describe('ValidationService checksums (issue 9, item 7)', () => {
  it('hashes the object when the store reports no checksum, and rejects bytes that differ', async () => {
    // Prepare: a store that, like moto, neither verifies nor reports the declared sha256.
    const sent = Buffer.concat([PDF_START, Buffer.from('tampered')]);
    const declared = sha256Hex(Buffer.concat([PDF_START, Buffer.from('original')]));
    const { store, calls } = recordingStore(sent);
    const file = pendingFile(sent.length, declared);
    const { validation } = validationOver(store, file);

    // Act
    const outcome = await validation.validateArrival(file, 'system');

    // Assess
    expect(outcome).toMatchObject({ kind: 'rejected', file: { rejectionReason: 'CHECKSUM_MISMATCH' } });
    expect(calls.map((c) => c.op)).toContain('stream');
  });

  it('activates with the checksum only once the bytes were hashed and matched', async () => {
    const { store, calls } = recordingStore(PDF_START);
    const file = pendingFile(PDF_START.length, sha256Hex(PDF_START));
    const { validation } = validationOver(store, file);

    const outcome = await validation.validateArrival(file, 'system');

    expect(outcome).toMatchObject({ kind: 'active', file: { sha256: sha256Hex(PDF_START) } });
    expect(calls.filter((c) => c.op === 'stream')).toHaveLength(1);
  });

  it('trusts a checksum the store reports, without reading the object', async () => {
    const reported = createHash('sha256').update(PDF_START).digest('base64');
    const { store, calls } = recordingStore(PDF_START, { checksumSha256Base64: reported });
    const file = pendingFile(PDF_START.length, sha256Hex(PDF_START));
    const { validation } = validationOver(store, file);

    expect(await validation.validateArrival(file, 'system')).toMatchObject({ kind: 'active' });
    expect(calls.map((c) => c.op)).toEqual(['readFirstBytes']);
  });
});

describe('ValidationService reads the object it judged (API.md 13.1)', () => {
  it('reads the first bytes and hashes of the HEAD version, and records it on activation', async () => {
    const { store, calls } = recordingStore(PDF_START);
    const file = pendingFile(PDF_START.length, sha256Hex(PDF_START));
    const { validation, activations } = validationOver(store, file);

    await validation.validateArrival(file, 'system');

    const seen = { etag: '"v-etag"', versionId: 'v-1' };
    expect(calls.filter((c) => c.op !== 'delete').map((c) => c.version)).toEqual([seen, seen]);
    expect(activations).toEqual([expect.objectContaining({ validatedObject: seen })]);
  });

  it('on SIZE_MISMATCH deletes the exact version, quarantining nothing', async () => {
    const { store, calls } = recordingStore(PDF_START);
    const file = pendingFile(PDF_START.length + 1);
    const { validation } = validationOver(store, file);

    const outcome = await validation.validateArrival(file, 'system');

    expect(outcome).toMatchObject({ kind: 'rejected', file: { rejectionReason: 'SIZE_MISMATCH' } });
    expect(calls.filter((c) => c.op === 'copy' || c.op === 'tag')).toEqual([]);
    expect(calls.filter((c) => c.op === 'delete')).toEqual([
      { op: 'delete', key: file.objectKey, versionId: 'v-1' },
    ]);
  });

  it('on MIME_TYPE_MISMATCH on a versioned store tags the version and hides it, copying nothing of any size', async () => {
    const bytes = Buffer.from('<html>not a pdf</html>');
    const { store, calls } = recordingStore(bytes);
    const file = pendingFile(bytes.length);
    const { validation } = validationOver(store, file);

    const outcome = await validation.validateArrival(file, 'system');

    expect(outcome).toMatchObject({ kind: 'rejected', file: { rejectionReason: 'MIME_TYPE_MISMATCH' } });
    expect(calls.filter((c) => c.op === 'copy' || c.op === 'tag' || c.op === 'delete')).toEqual([
      { op: 'tag', key: file.objectKey, versionId: 'v-1', version: { 'stowage-quarantine': 'true' } },
      // Without a version id: a delete marker, behind which the tagged version stays unreadable.
      { op: 'delete', key: file.objectKey, versionId: undefined },
    ]);
  });

  it.each([
    ['copies it to quarantine/ when one CopyObject can', 1024, 1],
    ['deletes it without a copy above 5 GB', 6 * 1024 ** 3, 0],
  ])('on MIME_TYPE_MISMATCH on an unversioned store %s', async (_, size, copies) => {
    const bytes = Buffer.from('<html>not a pdf</html>');
    const { store, calls } = recordingStore(bytes, { versionId: null, size });
    const file = pendingFile(size);
    const { validation } = validationOver(store, file);

    const outcome = await validation.validateArrival(file, 'system');

    expect(outcome).toMatchObject({ kind: 'rejected', file: { rejectionReason: 'MIME_TYPE_MISMATCH' } });
    expect(calls.filter((c) => c.op === 'copy')).toHaveLength(copies);
    expect(calls.filter((c) => c.op === 'delete')).toEqual([
      { op: 'delete', key: file.objectKey, versionId: undefined },
    ]);
  });

  it('still deletes the object when its quarantine fails', async () => {
    const bytes = Buffer.from('<html>not a pdf</html>');
    const { store, calls } = recordingStore(bytes);
    Object.assign(store, { tag: async () => Promise.reject(new Error('AccessDenied')) });
    const file = pendingFile(bytes.length);
    const { validation } = validationOver(store, file);

    await validation.validateArrival(file, 'system');

    expect(calls.filter((c) => c.op === 'delete')).toEqual([
      { op: 'delete', key: file.objectKey, versionId: 'v-1' },
    ]);
  });
});

describe('ValidationService.onObjectCreated of objects no pending file waits for (API.md 13.1)', () => {
  const accepted = { etag: '"v-etag"', versionId: 'v-1' };
  const active = { ...pendingFile(PDF_START.length), status: 'active' as const, validatedObject: accepted };
  const created = (etag: string, versionId: string | null) => ({ key: active.objectKey, etag, versionId });

  it.each([
    ['no record (abandoned, purged or never issued)', null, created('"x"', 'v-9'), 'v-9'],
    ['a rejected file', { ...active, status: 'rejected' as const }, created('"x"', 'v-9'), 'v-9'],
    ['an active file, another version', active, created('"x"', 'v-9'), 'v-9'],
    [
      'an active file on an unversioned store, another ETag',
      { ...active, validatedObject: { etag: '"v-etag"', versionId: null } },
      created('"x"', null),
      undefined,
    ],
    [
      'a soft-deleted file, another version',
      { ...active, status: 'deleted' as const },
      created('"x"', 'v-9'),
      'v-9',
    ],
  ])('removes the object written for %s, and changes no file', async (_, record, object, versionId) => {
    const { store, calls } = recordingStore(PDF_START);
    const { validation, events, activations } = validationOver(store, record);

    const outcome = await validation.onObjectCreated(object);

    expect(outcome).toEqual({ kind: 'removed', key: active.objectKey });
    expect(calls).toEqual([{ op: 'delete', key: active.objectKey, versionId }]);
    expect(activations).toEqual([]);
    expect(events).toEqual([
      expect.objectContaining({ type: 'object.removed', actor: 'system', status: 'error' }),
    ]);
  });

  it('leaves the accepted object alone when its own event arrives late or twice', async () => {
    const { store, calls } = recordingStore(PDF_START);
    const { validation } = validationOver(store, active);

    const outcome = await validation.onObjectCreated(created('"v-etag"', 'v-1'));

    expect(outcome).toMatchObject({ kind: 'settled', file: { status: 'active' } });
    expect(calls).toEqual([]);
  });

  it('validates the object of a pending file', async () => {
    const { store } = recordingStore(PDF_START);
    const pending = pendingFile(PDF_START.length);
    const { validation } = validationOver(store, pending);

    expect(await validation.onObjectCreated(created('"v-etag"', 'v-1'))).toMatchObject({ kind: 'active' });
  });
});

describe('ValidationService: complete and the storage event together (issue 14)', () => {
  it('reads the object once when both ask for the same file at the same time, and both get its outcome', async () => {
    // Prepare: a store that counts HEADs and answers slowly enough for the two to overlap.
    const { store } = bigObjectStore(1024);
    let heads = 0;
    const slowHead = store.head.bind(store);
    store.head = async (key: string) => {
      heads++;
      await new Promise((done) => setTimeout(done, 20));
      return slowHead(key);
    };
    const { validation, events } = validationWith(store, [true, true]);
    // Act
    const [fromComplete, fromEvent] = await Promise.all([
      validation.validateArrival(pendingFile(1024), 'alice'),
      validation.validateArrival(pendingFile(1024), 'system'),
    ]);
    // Assess
    expect(heads).toBe(1);
    expect(fromComplete).toMatchObject({ kind: 'active' });
    expect(fromEvent).toEqual(fromComplete);
    expect(events.filter((e) => e.type === 'upload.completed')).toHaveLength(1);
  });

  it('validates again once the first validation has finished (a later delivery is not served a stale outcome)', async () => {
    const { store } = bigObjectStore(1024);
    let heads = 0;
    const head = store.head.bind(store);
    store.head = async (key: string) => {
      heads++;
      return head(key);
    };
    const { validation } = validationWith(store, [true, false]);
    await validation.validateArrival(pendingFile(1024), 'alice');
    await validation.validateArrival(pendingFile(1024), 'system');
    expect(heads).toBe(2);
  });
});
