import { createHash, randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../../shared/domain/model.js';
import { type Client, client, newTenant, waitForStatus } from '../support/api.js';
import { minimalPdf } from '../support/samples.js';
import { composeSecondApp, manualClock } from '../support/second-app.js';

/**
 * Big uploads as API.md 13.2 has them, through the running stack and the embedded store: part
 * URLs on demand, resume from what storage holds, per-part checksums storage verifies, and a
 * declared sha256 of a multipart upload checked in the background.
 */
const MiB = 1024 * 1024;
const PART = 8 * MiB;

let admin: Client;
let member: Client;
let other: Client;
let viewer: Client;
let open: { id: string };

beforeAll(async () => {
  const tenant = newTenant('big');
  admin = await client(tenant, 'alice', ['admin']);
  member = await client(tenant, 'bob', ['member']);
  other = await client(tenant, 'carol', ['member']);
  viewer = await client(tenant, 'vic', ['viewer']);
  open = (await admin.post('/v1/buckets', { name: 'Big' })).body;
});

/** A PDF of exactly `size` bytes (a real header, then noise). */
const pdfOf = (size: number) => {
  const head = minimalPdf();
  return Buffer.concat([head, randomBytes(size - head.length)]);
};
const hex = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const partOf = (bytes: Buffer, partNumber: number, partSize = PART) =>
  new Uint8Array(bytes.subarray((partNumber - 1) * partSize, partNumber * partSize));

async function initiate(body: Record<string, unknown>, as = member) {
  const res = await as.post(`/v1/buckets/${open.id}/uploads`, {
    filename: 'big.pdf',
    contentType: 'application/pdf',
    ...body,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { file: any; upload: any };
}

async function putPart(part: { url: string; headers?: Record<string, string> }, body: Uint8Array) {
  const res = await fetch(part.url, {
    method: 'PUT',
    headers: part.headers ?? {},
    body: new Uint8Array(body),
  });
  return { status: res.status, etag: res.headers.get('etag') as string };
}

describe('part URLs on demand (API.md 13.2)', () => {
  it('answers the first part URLs with partCount, the rest on demand, and completes', async () => {
    // Prepare: nine parts, the last of 100 bytes.
    const size = 8 * PART + 100;
    const bytes = pdfOf(size);
    const { file, upload } = await initiate({ size, multipart: true });
    expect(upload).toMatchObject({ method: 'MULTIPART', partSize: PART, partCount: 9 });
    expect(upload.parts.map((p: any) => p.partNumber)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(upload.parts[0]).toMatchObject({ size: PART, headers: {} });

    // Act: three parts, then what storage holds, then URLs for the rest.
    const sent: { partNumber: number; etag: string }[] = [];
    for (const part of upload.parts.slice(0, 3)) {
      const put = await putPart(part, partOf(bytes, part.partNumber));
      expect(put.status).toBe(200);
      sent.push({ partNumber: part.partNumber, etag: put.etag });
    }
    const progress = await member.get(`/v1/files/${file.id}/upload`);
    const more = await member.post(`/v1/files/${file.id}/upload/parts`, { partNumbers: [4, 5, 6, 7, 8, 9] });

    // Assess
    expect(progress.status).toBe(200);
    expect(progress.body).toMatchObject({ uploadId: upload.uploadId, partSize: PART, partCount: 9 });
    expect(progress.body.uploaded).toEqual(sent.map((p) => ({ ...p, size: PART })));
    expect(more.status).toBe(200);
    expect(more.body.parts.map((p: any) => [p.partNumber, p.size])).toEqual([
      [4, PART],
      [5, PART],
      [6, PART],
      [7, PART],
      [8, PART],
      [9, 100],
    ]);
    expect(Date.parse(more.body.expiresAt)).toBeGreaterThan(Date.now());
    for (const part of more.body.parts) {
      const put = await putPart(part, partOf(bytes, part.partNumber));
      expect(put.status).toBe(200);
      sent.push({ partNumber: part.partNumber, etag: put.etag });
    }
    const done = await member.post(`/v1/files/${file.id}/complete`, { parts: sent });
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    expect(done.body).toMatchObject({ status: 'active', size, verifying: false });
  });

  it('binds each part URL to its exact length: a longer or shorter body is refused by storage', async () => {
    const size = PART + 10;
    const { upload } = await initiate({ size, multipart: true });
    const [first, last] = upload.parts;

    expect((await putPart(first, randomBytes(PART + 1))).status).toBe(403);
    expect((await putPart(last, randomBytes(9))).status).toBe(403);
    expect((await putPart(last, randomBytes(10))).status).toBe(200);
  });

  it.each([
    ['a part beyond partCount', { partNumbers: [3] }, 400, 'VALIDATION_FAILED'],
    ['a part twice', { partNumbers: [1, 1] }, 400, 'VALIDATION_FAILED'],
    ['part 0', { partNumbers: [0] }, 400, 'VALIDATION_FAILED'],
    [
      'more than 100 parts',
      { partNumbers: Array.from({ length: 101 }, (_, i) => i + 1) },
      400,
      'VALIDATION_FAILED',
    ],
    [
      'checksums for an upload without them',
      { partNumbers: [1], partSha256: ['a'.repeat(64)] },
      400,
      'VALIDATION_FAILED',
    ],
    ['no part numbers', {}, 400, 'VALIDATION_FAILED'],
  ])('refuses %s', async (_, body, status, code) => {
    const { file } = await initiate({ size: PART + 10, multipart: true });
    const res = await member.post(`/v1/files/${file.id}/upload/parts`, body);
    expect(res.status).toBe(status);
    expect(res.body.error.code).toBe(code);
  });

  it('is for the uploader and admins of a pending multipart upload only', async () => {
    const { file } = await initiate({ size: PART + 10, multipart: true });
    const single = await initiate({ size: 5000 });
    const stranger = await client(newTenant('else'), 'bob', ['admin']);
    const ask = (as: Client, id = file.id) => as.post(`/v1/files/${id}/upload/parts`, { partNumbers: [1] });

    expect((await ask(admin)).status).toBe(200);
    expect((await ask(other)).status).toBe(403);
    expect((await ask(viewer)).status).toBe(403);
    expect((await ask(stranger)).status).toBe(404);
    expect((await ask(member, single.file.id)).status).toBe(409);
    expect((await member.get(`/v1/files/${single.file.id}/upload`)).status).toBe(409);
    expect((await stranger.get(`/v1/files/${file.id}/upload`)).status).toBe(404);
    expect((await member.del(`/v1/files/${file.id}/upload`)).status).toBe(204);
    expect((await ask(member)).status).toBe(404);
  });
});

describe('per-part checksums (API.md 13.2)', () => {
  it('signs each part SHA-256 into its URL, so storage refuses other bytes of the same length', async () => {
    // Prepare
    const size = PART + 1000;
    const bytes = pdfOf(size);
    const { file, upload } = await initiate({ size, multipart: true, partSha256: [hex(partOf(bytes, 1))] });
    expect(upload.partCount).toBe(2);
    expect(upload.parts).toHaveLength(1);
    expect(Object.keys(upload.parts[0].headers)).toEqual(['x-amz-checksum-sha256']);

    // Act
    const tampered = await putPart(upload.parts[0], randomBytes(PART));
    const honest = await putPart(upload.parts[0], partOf(bytes, 1));
    const withoutSha = await member.post(`/v1/files/${file.id}/upload/parts`, { partNumbers: [2] });
    const second = await member.post(`/v1/files/${file.id}/upload/parts`, {
      partNumbers: [2],
      partSha256: [hex(partOf(bytes, 2))],
    });
    const last = await putPart(second.body.parts[0], partOf(bytes, 2));
    const done = await member.post(`/v1/files/${file.id}/complete`, {
      parts: [
        { partNumber: 1, etag: honest.etag },
        { partNumber: 2, etag: last.etag },
      ],
    });

    // Assess
    expect(tampered.status).toBe(400);
    expect(honest.status).toBe(200);
    expect(withoutSha.status).toBe(400);
    expect(last.status).toBe(200);
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    expect(done.body.status).toBe('active');
  });

  it('refuses partSha256 on a single upload', async () => {
    const res = await member.post(`/v1/buckets/${open.id}/uploads`, {
      filename: 'a.pdf',
      contentType: 'application/pdf',
      size: 5000,
      partSha256: ['a'.repeat(64)],
    });
    expect(res.status).toBe(400);
  });
});

describe('a declared sha256 of a multipart upload is verified in the background (API.md 13.2)', () => {
  async function uploadAll(bytes: Buffer, sha256: string) {
    const { file, upload } = await initiate({ size: bytes.length, multipart: true, sha256 });
    const parts = [];
    for (const part of upload.parts)
      parts.push({
        partNumber: part.partNumber,
        etag: (await putPart(part, partOf(bytes, part.partNumber))).etag,
      });
    return { file, done: await member.post(`/v1/files/${file.id}/complete`, { parts }) };
  }

  it('answers complete with the file pending and verifying, then rejects a mismatch as CHECKSUM_MISMATCH', async () => {
    const bytes = pdfOf(PART + 4096);
    const reserved = (await admin.get('/v1/quota')).body.reservedBytes;
    const { file, done } = await uploadAll(bytes, hex(randomBytes(64)));

    // complete did not hash the object: it answered before the check.
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ status: 'pending', verifying: true });
    const settled = await waitForStatus(member, file.id, 30_000);
    expect(settled).toMatchObject({
      status: 'rejected',
      rejectionReason: 'CHECKSUM_MISMATCH',
      verifying: false,
    });
    expect((await member.post(`/v1/files/${file.id}/complete`, {})).body.status).toBe('rejected');
    expect((await admin.get('/v1/quota')).body.reservedBytes).toBe(reserved);
  });

  it('makes the file active when the bytes match', async () => {
    const bytes = pdfOf(PART + 4096);
    const { file, done } = await uploadAll(bytes, hex(bytes));

    expect(done.body).toMatchObject({ status: 'pending', verifying: true });
    // Asking again while it is checked answers the same, and hashes nothing more.
    expect((await member.post(`/v1/files/${file.id}/complete`, {})).body).toMatchObject({ verifying: true });
    const settled = await waitForStatus(member, file.id, 30_000);
    expect(settled).toMatchObject({ status: 'active', sha256: hex(bytes), verifying: false });
    const download = await member.get(`/v1/files/${file.id}/download`);
    const got = Buffer.from(await (await fetch(download.body.url)).arrayBuffer());
    expect(hex(got)).toBe(hex(bytes));
  });
});

describe('the life of a multipart upload (API.md 13.2)', () => {
  const actor: Actor = { tenantId: newTenant('life'), userId: 'bob', roles: ['admin'] };

  it('re-issues a part URL that expired, and grows the expiry as parts are asked for', async () => {
    // Prepare: part URLs that live three seconds, on a clock the test moves.
    const clock = manualClock();
    const { app } = await composeSecondApp({
      label: 'life',
      clock,
      env: { FILESTORE_PART_URL_TTL_SECONDS: '3' },
    });
    const { uploads, buckets } = app.services;
    const bucket = await buckets.create(actor, { name: 'Life' });
    const size = PART + 10;
    const bytes = pdfOf(size);
    const { file, upload } = await uploads.initiate(actor, bucket.id, {
      filename: 'slow.pdf',
      contentType: 'application/pdf',
      size,
      multipart: true,
    });
    if (upload.method !== 'MULTIPART') throw new Error('expected a multipart upload');
    await new Promise((done) => setTimeout(done, 4100));

    // Act: the URL has expired; an hour later, fresh ones are asked for.
    const expired = await putPart(upload.parts[0] as { url: string }, partOf(bytes, 1));
    clock.advance(3600_000);
    const fresh = await uploads.partUrls(actor, file.id, { partNumbers: [1, 2] });
    const parts = [];
    for (const part of fresh.parts) {
      const put = await putPart(part, partOf(bytes, part.partNumber));
      expect(put.status).toBe(200);
      parts.push({ partNumber: part.partNumber, etag: put.etag });
    }
    const extended = await app.metadata.files.get(actor.tenantId, file.id);
    const done = await uploads.complete(actor, file.id, parts);

    // Assess
    expect(expired.status).toBe(403);
    expect(Date.parse(extended?.uploadExpiresAt ?? '')).toBeGreaterThan(
      Date.parse(file.uploadExpiresAt ?? ''),
    );
    expect(Date.parse(extended?.uploadExpiresAt ?? '')).toBeGreaterThan(clock.ms());
    expect(done.status).toBe('active');
  });
});
