import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Client, client, newTenant, sendBytes, sha256Hex, waitForStatus } from '../support/api.js';
import { CSV, HTML_PAGE, minimalPdf, PNG_1x1, WINDOWS_EXE } from '../support/samples.js';
import { uploadsBucket } from '../support/storage.js';

let admin: Client;
let member: Client;
let docs: any; // a bucket for PDFs and images
let open: any; // a bucket for anything

beforeAll(async () => {
  const tenant = newTenant('up');
  admin = await client(tenant, 'alice', ['admin']);
  member = await client(tenant, 'bob', ['member']);
  docs = (
    await admin.post('/v1/buckets', {
      name: 'Docs',
      allowedMimeTypes: ['application/pdf', 'image/*'],
      maxFileSize: 1024 * 1024,
    })
  ).body;
  open = (await admin.post('/v1/buckets', { name: 'Open' })).body;
});

async function initiate(api: Client, bucketId: string, body: Record<string, unknown>) {
  const res = await api.post(`/v1/buckets/${bucketId}/uploads`, body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { file: any; upload: any };
}

describe('upload, complete, download', () => {
  it('takes a PDF through a presigned PUT and complete', async () => {
    const pdf = minimalPdf();
    const { file, upload } = await initiate(member, docs.id, {
      filename: 'Q3 report.pdf',
      contentType: 'application/pdf',
      size: pdf.length,
      references: [{ entityType: 'ticket', entityId: 'T-1001' }],
    });
    expect(file).toMatchObject({
      status: 'pending',
      originalName: 'Q3 report.pdf',
      uploadedBy: 'bob',
      size: pdf.length,
      references: [{ entityType: 'ticket', entityId: 'T-1001' }],
      preview: { status: 'none' },
    });
    expect(upload.method).toBe('PUT');
    expect(upload.url).not.toContain('Q3');
    expect((await admin.get('/v1/quota')).body.reservedBytes).toBeGreaterThanOrEqual(pdf.length);

    expect((await sendBytes(upload, pdf)).status).toBe(200);
    const done = await member.post(`/v1/files/${file.id}/complete`, {});
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({
      id: file.id,
      status: 'active',
      mimeType: 'application/pdf',
      rejectionReason: null,
    });

    // calling it again gives the same answer and counts nothing twice
    const again = await member.post(`/v1/files/${file.id}/complete`, {});
    expect(again.body.status).toBe('active');

    const dl = await member.get(`/v1/files/${file.id}/download`);
    expect(dl.status).toBe(200);
    const got = await fetch(dl.body.url);
    expect(got.status).toBe(200);
    expect(Buffer.from(await got.arrayBuffer()).equals(pdf)).toBe(true);
    expect(got.headers.get('content-type')).toBe('application/pdf');
    expect(got.headers.get('content-disposition')).toBe(
      `attachment; filename="Q3 report.pdf"; filename*=UTF-8''Q3%20report.pdf`,
    );
    expect(Date.parse(dl.body.expiresAt) - Date.now()).toBeLessThanOrEqual(300_000);

    const redirect = await member.call('GET', `/v1/files/${file.id}/download?redirect=1`);
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get('location')).toMatch(/^http/);

    const events = await admin.get(`/v1/events?fileId=${file.id}`);
    expect(events.body.items.map((e: any) => e.type)).toEqual(
      expect.arrayContaining(['upload.initiated', 'upload.completed', 'file.downloaded']),
    );
  });

  it('validates from the storage event alone, through a presigned POST, with actor system', async () => {
    const { file, upload } = await initiate(member, docs.id, {
      filename: 'pixel.png',
      contentType: 'image/png',
      size: PNG_1x1.length,
      uploadMethod: 'POST',
    });
    expect(upload.method).toBe('POST');
    expect(upload.fields['Content-Type']).toBe('image/png');
    const sent = await sendBytes(upload, PNG_1x1);
    expect([200, 201, 204]).toContain(sent.status);
    const settled = await waitForStatus(member, file.id);
    expect(settled).toMatchObject({ status: 'active', mimeType: 'image/png' });
    const events = await admin.get(`/v1/events?fileId=${file.id}&type=upload.completed`);
    expect(events.body.items).toHaveLength(1);
    expect(events.body.items[0].actor).toBe('system');
    // complete after the event gives the same answer
    expect((await member.post(`/v1/files/${file.id}/complete`, {})).body.status).toBe('active');
  });

  it('answers 409 to complete before the bytes arrive, and the file stays pending', async () => {
    const { file } = await initiate(member, open.id, {
      filename: 'later.csv',
      contentType: 'text/csv',
      size: CSV.length,
    });
    const early = await member.post(`/v1/files/${file.id}/complete`, {});
    expect(early.status).toBe(409);
    expect(early.body.error.code).toBe('CONFLICT');
    expect((await member.get(`/v1/files/${file.id}`)).body.status).toBe('pending');
    expect((await member.get(`/v1/files/${file.id}/download`)).status).toBe(409);
  });

  it('passes content with no signature on its declared type', async () => {
    const { file, upload } = await initiate(member, open.id, {
      filename: 'rows.csv',
      contentType: 'text/csv',
      size: CSV.length,
    });
    await sendBytes(upload, CSV);
    expect((await member.post(`/v1/files/${file.id}/complete`, {})).body).toMatchObject({
      status: 'active',
      mimeType: 'text/csv',
    });
  });

  it('serves types a browser would execute as octet-stream', async () => {
    const { file, upload } = await initiate(member, open.id, {
      filename: 'page.html',
      contentType: 'text/html',
      size: HTML_PAGE.length,
    });
    await sendBytes(upload, HTML_PAGE);
    await member.post(`/v1/files/${file.id}/complete`, {});
    const got = await fetch((await member.get(`/v1/files/${file.id}/download`)).body.url);
    expect(got.headers.get('content-type')).toBe('application/octet-stream');
  });

  it('stores non-ASCII names and gives an RFC 5987 header', async () => {
    const name = 'Überweisung März "final".csv';
    const { file, upload } = await initiate(member, open.id, {
      filename: name,
      contentType: 'text/csv',
      size: CSV.length,
    });
    await sendBytes(upload, CSV);
    await member.post(`/v1/files/${file.id}/complete`, {});
    const got = await fetch((await member.get(`/v1/files/${file.id}/download`)).body.url);
    const header = got.headers.get('content-disposition') ?? '';
    expect(header).toContain(`filename*=UTF-8''${encodeURIComponent(name).replace(/'/g, '%27')}`);
    expect(header).toMatch(/^attachment; filename="Uberweisung Marz _final_.csv"/);
  });
});

describe('rejections', () => {
  async function uploadAndComplete(bucketId: string, body: Record<string, unknown>, bytes: Uint8Array) {
    const { file, upload } = await initiate(member, bucketId, body);
    await sendBytes(upload, bytes);
    const res = await member.post(`/v1/files/${file.id}/complete`, {});
    expect(res.status).toBe(200);
    return res.body;
  }

  it.each([
    ['an HTML page declared as PDF', 'docs', 'application/pdf', HTML_PAGE],
    ['an executable declared as PDF', 'open', 'application/pdf', WINDOWS_EXE],
    ['a PDF declared as PNG', 'docs', 'image/png', minimalPdf()],
  ])('rejects %s as MIME_TYPE_MISMATCH and removes the object', async (_, where, contentType, bytes) => {
    const quotaBefore = (await admin.get('/v1/quota')).body;
    const bucketId = where === 'docs' ? docs.id : open.id;
    const file = await uploadAndComplete(bucketId, { filename: 'x', contentType, size: bytes.length }, bytes);
    expect(file).toMatchObject({ status: 'rejected', rejectionReason: 'MIME_TYPE_MISMATCH' });
    expect((await member.get(`/v1/files/${file.id}/download`)).status).toBe(409);
    const store = uploadsBucket();
    expect(await store.head(`tenants/${member.tenantId}/${bucketId}/${file.id}`)).toBeNull();
    expect(await store.head(`quarantine/tenants/${member.tenantId}/${bucketId}/${file.id}`)).not.toBeNull();
    const quotaAfter = (await admin.get('/v1/quota')).body;
    expect(quotaAfter.reservedBytes).toBe(quotaBefore.reservedBytes);
    expect(quotaAfter.usedBytes).toBe(quotaBefore.usedBytes);
    const events = await admin.get(`/v1/events?fileId=${file.id}&type=upload.rejected`);
    expect(events.body.items[0]).toMatchObject({
      status: 'error',
      details: expect.objectContaining({ reason: 'MIME_TYPE_MISMATCH' }),
    });
  });

  it('refuses a declared type the bucket does not allow', async () => {
    const res = await member.post(`/v1/buckets/${docs.id}/uploads`, {
      filename: 'setup.bin',
      contentType: 'application/octet-stream',
      size: WINDOWS_EXE.length,
    });
    expect(res.status).toBe(415);
    expect(res.body.error.code).toBe('MIME_TYPE_NOT_ALLOWED');
  });

  it('checks the detected type against the bucket before the declared one (API.md section 6 order)', async () => {
    const file = await uploadAndComplete(
      docs.id,
      { filename: 'x.pdf', contentType: 'application/pdf', size: WINDOWS_EXE.length },
      WINDOWS_EXE,
    );
    expect(file).toMatchObject({ status: 'rejected', rejectionReason: 'MIME_TYPE_NOT_ALLOWED' });
  });

  it('rejects bytes whose detected type the bucket does not allow', async () => {
    const pdfOnly = (
      await admin.post('/v1/buckets', {
        name: 'Anything but exe',
        allowedMimeTypes: ['application/octet-stream', 'application/pdf'],
      })
    ).body;
    const file = await uploadAndComplete(
      pdfOnly.id,
      { filename: 'setup.bin', contentType: 'application/octet-stream', size: WINDOWS_EXE.length },
      WINDOWS_EXE,
    );
    expect(file).toMatchObject({ status: 'rejected', rejectionReason: 'MIME_TYPE_NOT_ALLOWED' });
  });

  it('a POST of another size than declared is refused by storage itself, and the file stays pending', async () => {
    const { file, upload } = await initiate(member, open.id, {
      filename: 'short.csv',
      contentType: 'text/csv',
      size: CSV.length + 10,
      uploadMethod: 'POST',
    });
    const sent = await sendBytes(upload, CSV);
    expect(sent.status).toBe(400);
    expect(await sent.text()).toContain('<Code>EntityTooSmall</Code>');
    expect(await uploadsBucket().head(`tenants/${member.tenantId}/${open.id}/${file.id}`)).toBeNull();
    const res = await member.post(`/v1/files/${file.id}/complete`, {});
    expect(res.status).toBe(409);
    expect((await member.get(`/v1/files/${file.id}`)).body.status).toBe('pending');
  });

  it('a body other than the declared sha256 is refused by storage (nothing stored), the right one accepted', async () => {
    const { file, upload } = await initiate(member, open.id, {
      filename: 'a.csv',
      contentType: 'text/csv',
      size: CSV.length,
      sha256: await sha256Hex(Buffer.from('other')),
    });
    const sent = await sendBytes(upload, CSV);
    expect(sent.status).toBe(400);
    expect(await sent.text()).toContain('<Code>BadDigest</Code>');
    expect(await uploadsBucket().head(`tenants/${member.tenantId}/${open.id}/${file.id}`)).toBeNull();
    expect((await member.post(`/v1/files/${file.id}/complete`, {})).status).toBe(409);
    const sha = await sha256Hex(CSV);
    const right = await uploadAndComplete(
      open.id,
      { filename: 'b.csv', contentType: 'text/csv', size: CSV.length, sha256: sha },
      CSV,
    );
    expect(right).toMatchObject({ status: 'active', sha256: sha });
  });

  it('refuses declared sizes and types the bucket does not take, before anything is stored', async () => {
    const big = await member.post(`/v1/buckets/${docs.id}/uploads`, {
      filename: 'big.pdf',
      contentType: 'application/pdf',
      size: 1024 * 1024 + 1,
    });
    expect(big.status).toBe(413);
    expect(big.body.error.code).toBe('FILE_TOO_LARGE');
    const type = await member.post(`/v1/buckets/${docs.id}/uploads`, {
      filename: 'a.txt',
      contentType: 'text/plain',
      size: 3,
    });
    expect(type.status).toBe(415);
    expect(type.body.error.code).toBe('MIME_TYPE_NOT_ALLOWED');
  });

  it('deletes a rejected file at once', async () => {
    const file = await uploadAndComplete(
      docs.id,
      { filename: 'x.pdf', contentType: 'application/pdf', size: HTML_PAGE.length },
      HTML_PAGE,
    );
    expect((await member.del(`/v1/files/${file.id}`)).status).toBe(204);
    expect((await member.get(`/v1/files/${file.id}`)).status).toBe(404);
  });
});

describe('multipart', () => {
  it('uploads parts through presigned URLs and completes with their ETags', async () => {
    const size = 9 * 1024 * 1024;
    const bytes = Buffer.concat([minimalPdf(), randomBytes(size - minimalPdf().length)]);
    const { file, upload } = await initiate(member, open.id, {
      filename: 'big.pdf',
      contentType: 'application/pdf',
      size,
      multipart: true,
    });
    expect(upload.method).toBe('MULTIPART');
    expect(upload.partSize).toBe(8 * 1024 * 1024);
    expect(upload.parts).toHaveLength(2);

    expect((await member.post(`/v1/files/${file.id}/complete`, {})).status).toBe(400);

    const parts = [];
    for (const part of upload.parts) {
      const start = (part.partNumber - 1) * upload.partSize;
      const res = await fetch(part.url, {
        method: 'PUT',
        body: new Uint8Array(bytes.subarray(start, start + upload.partSize)),
      });
      expect(res.status).toBe(200);
      parts.push({ partNumber: part.partNumber, etag: res.headers.get('etag') as string });
    }
    const bad = await member.post(`/v1/files/${file.id}/complete`, {
      parts: [{ partNumber: 1, etag: '"0000"' }, parts[1]],
    });
    expect(bad.status).toBe(400);

    const done = await member.post(`/v1/files/${file.id}/complete`, { parts });
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ status: 'active', size, mimeType: 'application/pdf' });
    const again = await member.post(`/v1/files/${file.id}/complete`, { parts });
    expect(again.body.status).toBe('active');
  });
});

describe('abandon and quota', () => {
  it('abandons a pending upload and gives its bytes back', async () => {
    const before = (await admin.get('/v1/quota')).body;
    const { file, upload } = await initiate(member, open.id, {
      filename: 'gone.csv',
      contentType: 'text/csv',
      size: CSV.length,
    });
    await sendBytes(upload, CSV);
    expect((await admin.get('/v1/quota')).body.reservedBytes).toBe(before.reservedBytes + CSV.length);
    // the event may validate it meanwhile; abandon only applies while pending
    const res = await member.del(`/v1/files/${file.id}/upload`);
    if (res.status === 204) {
      expect((await member.get(`/v1/files/${file.id}`)).status).toBe(404);
      expect((await admin.get('/v1/quota')).body.reservedBytes).toBe(before.reservedBytes);
    } else {
      expect(res.status).toBe(409);
    }
  });

  it('abandons before bytes arrive; a non-pending file is 409', async () => {
    const { file } = await initiate(member, open.id, {
      filename: 'never.csv',
      contentType: 'text/csv',
      size: 5,
    });
    expect((await member.del(`/v1/files/${file.id}/upload`)).status).toBe(204);
    expect((await member.get(`/v1/files/${file.id}`)).status).toBe(404);
    const events = await admin.get(`/v1/events?fileId=${file.id}`);
    expect(events.body.items.map((e: any) => e.type)).toContain('upload.abandoned');

    const { file: done, upload } = await initiate(member, open.id, {
      filename: 'kept.csv',
      contentType: 'text/csv',
      size: CSV.length,
    });
    await sendBytes(upload, CSV);
    await member.post(`/v1/files/${done.id}/complete`, {});
    expect((await member.del(`/v1/files/${done.id}/upload`)).status).toBe(409);
  });

  it('answers 507 when the quota cannot hold an upload, and reserves nothing', async () => {
    const tenant = newTenant('quota');
    const boss = await client(tenant, 'boss', ['admin']);
    const bucket = (await boss.post('/v1/buckets', { name: 'Q' })).body;
    await boss.put('/v1/quota', { limitBytes: 100 });
    expect(
      (
        await boss.post(`/v1/buckets/${bucket.id}/uploads`, {
          filename: 'a',
          contentType: 'text/plain',
          size: 60,
        })
      ).status,
    ).toBe(201);
    const over = await boss.post(`/v1/buckets/${bucket.id}/uploads`, {
      filename: 'b',
      contentType: 'text/plain',
      size: 41,
    });
    expect(over.status).toBe(507);
    expect(over.body.error.code).toBe('QUOTA_EXCEEDED');
    expect((await boss.get('/v1/quota')).body).toMatchObject({
      limitBytes: 100,
      reservedBytes: 60,
      usedBytes: 0,
    });
    expect(
      (
        await boss.post(`/v1/buckets/${bucket.id}/uploads`, {
          filename: 'c',
          contentType: 'text/plain',
          size: 40,
        })
      ).status,
    ).toBe(201);
  });
});
