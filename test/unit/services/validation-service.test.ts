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
});

/** A store holding one big object, recording every read. */
function bigObjectStore(size: number) {
  const reads: { op: string; length?: number }[] = [];
  const head: ObjectHead = {
    size,
    contentType: 'application/pdf',
    etag: '"e"',
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
      activate: async () => activateAnswers.shift() ?? false,
      reject: async () => true,
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
      verifyChecksumByReading: false,
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
