import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { objectKeys } from '../../shared/domain/keys.js';
import { type Client, client, newTenant, sendBytes, waitForStatus } from '../support/api.js';
import { CSV, minimalPdf } from '../support/samples.js';
import { uploadsBucket } from '../support/storage.js';

// Issue 9, items 5 and 6 (API.md 13.1 and 13.2), attacked through the running stack: an upload
// URL creates its object once and never changes a validated file; part URLs sign their length;
// an object written for a file that is not pending is removed by the storage event.

const MiB = 1024 * 1024;
let member: Client;
let admin: Client;
let bucketId: string;
const store = uploadsBucket();

beforeAll(async () => {
  const tenant = newTenant('once');
  admin = await client(tenant, 'alice', ['admin']);
  member = await client(tenant, 'bob', ['member']);
  bucketId = (await admin.post('/v1/buckets', { name: 'Once' })).body.id;
});

async function initiate(body: Record<string, unknown>) {
  const res = await member.post(`/v1/buckets/${bucketId}/uploads`, body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { file: any; upload: any };
}

/** Waits until the storage event queue has removed the object at `key` (or gives up). */
async function objectGone(key: string, timeoutMs = 10_000): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if ((await store.head(key)) === null) return true;
    await new Promise((done) => setTimeout(done, 50));
  }
  return false;
}

const sameLength = (bytes: Buffer, from: string, to: string) =>
  Buffer.from(bytes.toString('latin1').replace(from, to), 'latin1');

describe('an upload URL creates its object once', () => {
  it.each(['PUT', 'POST'] as const)(
    'refuses a %s replay of a validated file, whose download stays the validated bytes',
    async (method) => {
      // Prepare
      const pdf = minimalPdf('valid');
      const { file, upload } = await initiate({
        filename: `once-${method}.pdf`,
        contentType: 'application/pdf',
        size: pdf.length,
        uploadMethod: method,
      });
      expect((await sendBytes(upload, pdf)).status).toBeLessThan(300);
      expect((await member.post(`/v1/files/${file.id}/complete`)).body.status).toBe('active');

      // Act: the same instructions again, with HTML of the same length.
      const replay = await sendBytes(upload, sameLength(pdf, 'valid', 'EVIL!'));

      // Assess
      expect(replay.status).toBe(412);
      const link = await member.get(`/v1/files/${file.id}/download`);
      expect(Buffer.from(await (await fetch(link.body.url)).arrayBuffer())).toEqual(pdf);
    },
  );

  it('stores the type and disposition with the object, signed into the URL', async () => {
    const { file, upload } = await initiate({
      filename: 'Q3 résumé.csv',
      contentType: 'text/csv',
      size: CSV.length,
    });
    expect(upload.headers).toMatchObject({
      'Content-Type': 'text/csv',
      'Content-Disposition': `attachment; filename="Q3 resume.csv"; filename*=UTF-8''Q3%20r%C3%A9sum%C3%A9.csv`,
      'If-None-Match': '*',
    });
    // Another disposition than the signed one is refused by storage itself.
    const forged = await fetch(upload.url, {
      method: 'PUT',
      headers: { ...upload.headers, 'Content-Disposition': 'inline' },
      body: new Uint8Array(CSV),
    });
    expect(forged.status).toBe(403);
    expect((await sendBytes(upload, CSV)).status).toBe(200);
    expect(
      await store.head(file.objectKey ?? objectKeys.file(member.tenantId, bucketId, file.id)),
    ).toMatchObject({
      size: CSV.length,
    });
  });

  it('removes what a replayed URL writes after the upload was abandoned, and counts nothing', async () => {
    // Prepare
    const { file, upload } = await initiate({
      filename: 'gone.csv',
      contentType: 'text/csv',
      size: CSV.length,
    });
    expect((await member.del(`/v1/files/${file.id}/upload`)).status).toBe(204);
    const quota = (await admin.get('/v1/quota')).body;
    const key = objectKeys.file(member.tenantId, bucketId, file.id);

    // Act: the key is free again, so storage takes the bytes; the storage event must not.
    expect((await sendBytes(upload, CSV)).status).toBe(200);

    // Assess
    expect(await objectGone(key)).toBe(true);
    expect((await member.get(`/v1/files/${file.id}`)).status).toBe(404);
    expect((await admin.get('/v1/quota')).body).toEqual(quota);
    const removed = await admin.get(`/v1/events?type=object.removed&fileId=${file.id}`);
    expect(removed.body.items).toHaveLength(1);
  });

  it('removes what a replayed URL writes after the file was rejected', async () => {
    // Prepare: an HTML page declared as PDF is rejected and its object removed.
    const html = Buffer.from('<html><body>not a pdf, not at all, no</body></html>');
    const { file, upload } = await initiate({
      filename: 'fake.pdf',
      contentType: 'application/pdf',
      size: html.length,
    });
    await sendBytes(upload, html);
    expect((await member.post(`/v1/files/${file.id}/complete`)).body).toMatchObject({
      status: 'rejected',
      rejectionReason: 'MIME_TYPE_MISMATCH',
    });
    const key = objectKeys.file(member.tenantId, bucketId, file.id);
    expect(await objectGone(key)).toBe(true);

    // Act
    expect((await sendBytes(upload, html)).status).toBe(200);

    // Assess
    expect(await objectGone(key)).toBe(true);
    expect((await member.get(`/v1/files/${file.id}`)).body.status).toBe('rejected');
  });
});

describe('multipart parts sign their length (API.md 13.2)', () => {
  it('refuses multipart below the minimum part size; a 0-byte declaration cannot take 24 MiB', async () => {
    const res = await member.post(`/v1/buckets/${bucketId}/uploads`, {
      filename: 'zero.bin',
      contentType: 'application/octet-stream',
      size: 0,
      multipart: true,
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
  });

  it('refuses a part longer or shorter than the part URL signs', async () => {
    // Prepare
    const size = 9 * MiB;
    const { upload } = await initiate({
      filename: 'parts.bin',
      contentType: 'application/octet-stream',
      size,
      multipart: true,
    });
    const [first, last] = upload.parts;

    // Act
    const longer = await fetch(first.url, {
      method: 'PUT',
      body: new Uint8Array(randomBytes(upload.partSize + 1)),
    });
    const shorter = await fetch(last.url, {
      method: 'PUT',
      body: new Uint8Array(randomBytes(size - upload.partSize - 1)),
    });
    const exact = await fetch(last.url, {
      method: 'PUT',
      body: new Uint8Array(randomBytes(size - upload.partSize)),
    });

    // Assess
    expect(longer.status).toBe(403);
    expect(shorter.status).toBe(403);
    expect(exact.status).toBe(200);
  });

  it('deletes an object rejected for its size instead of keeping it in quarantine', async () => {
    // Prepare: 20 MiB declared; only parts 1 and 3 sent, so 12 MiB arrive.
    const size = 20 * MiB;
    const { file, upload } = await initiate({
      filename: 'short.bin',
      contentType: 'application/octet-stream',
      size,
      multipart: true,
    });
    const parts = [];
    for (const part of [upload.parts[0], upload.parts[2]]) {
      const length = Math.min(upload.partSize, size - (part.partNumber - 1) * upload.partSize);
      const sent = await fetch(part.url, { method: 'PUT', body: new Uint8Array(length) });
      expect(sent.status).toBe(200);
      parts.push({ partNumber: part.partNumber, etag: sent.headers.get('etag') });
    }

    // Act
    const completed = await member.post(`/v1/files/${file.id}/complete`, { parts });

    // Assess
    expect(completed.body).toMatchObject({ status: 'rejected', rejectionReason: 'SIZE_MISMATCH' });
    expect(await store.head(objectKeys.file(member.tenantId, bucketId, file.id))).toBeNull();
    expect(await store.head(objectKeys.quarantine(member.tenantId, bucketId, file.id))).toBeNull();
    expect((await waitForStatus(member, file.id)).status).toBe('rejected');
  });
});
