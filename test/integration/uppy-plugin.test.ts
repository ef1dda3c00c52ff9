import { fetchSendBytes, type SendBytes } from '@stowage/client';
import Stowage, { type StowageOptions } from '@stowage/uppy';
import Uppy from '@uppy/core';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { type Client, client, newTenant } from '../support/api.js';

const MiB = 1024 * 1024;
const PART = 8 * MiB;

/**
 * @stowage/uppy with the real @uppy/core in Node against the stack of this run (the browser
 * test covers the Dashboard): what the plugin takes from Uppy's meta, how many files it sends at
 * once, and what removing a file left for resume does on the service.
 */
describe('@stowage/uppy with Uppy core', () => {
  const tenantId = newTenant('uppyn');
  let admin: Client;
  let bucketId: string;
  const apiUrl = inject('apiUrl');
  const bytes = (size: number) => new Blob([new Uint8Array(size).fill(0x61)], { type: 'text/plain' });
  const newUppy = (opts: Partial<StowageOptions<Record<string, unknown>, Record<string, unknown>>> = {}) =>
    new Uppy().use(Stowage, {
      baseUrl: apiUrl,
      getToken: () => admin.token,
      bucketId,
      resume: new Map(),
      ...opts,
    });

  beforeAll(async () => {
    admin = await client(tenantId, 'alice', ['admin']);
    bucketId = (await admin.post('/v1/buckets', { name: 'Uppy in Node' })).body.id;
  });

  it('attaches the plugin’s references and the file’s meta entity, and copies chosen meta into metadata', async () => {
    // Prepare
    const uppy = newUppy({
      references: [{ entityType: 'ticket', entityId: 'T-1' }],
      metadataFields: ['label'],
    });
    uppy.addFile({
      name: 'notes.txt',
      type: 'text/plain',
      data: bytes(10),
      meta: { entityType: 'order', entityId: 'O-9', label: 'draft', ignored: 'not copied' },
    });
    // Act
    const result = await uppy.upload();
    // Assess
    expect(result?.failed).toEqual([]);
    const body = result?.successful?.[0]?.response?.body as unknown as { id: string } | undefined;
    const id = body?.id;
    const file = (await admin.get(`/v1/files/${id}`)).body;
    expect(file.status).toBe('active');
    expect(file.references).toEqual(
      expect.arrayContaining([
        { entityType: 'ticket', entityId: 'T-1' },
        { entityType: 'order', entityId: 'O-9' },
      ]),
    );
    expect(file.metadata).toEqual({ label: 'draft' });
  });

  it('sends no more files at once than `limit`', async () => {
    // Prepare: count the byte requests in flight (each small file is one PUT).
    let now = 0;
    let most = 0;
    const send = fetchSendBytes(fetch);
    const counting: SendBytes = async (req) => {
      most = Math.max(most, ++now);
      try {
        // Hold each file until a second one is in flight too (or 3 s pass: the last one is alone).
        for (let i = 0; i < 60 && now < 2; i++) await new Promise((done) => setTimeout(done, 50));
        return await send(req);
      } finally {
        now--;
      }
    };
    const uppy = newUppy({ limit: 2, sendBytes: counting });
    for (let i = 0; i < 5; i++) uppy.addFile({ name: `f${i}.txt`, type: 'text/plain', data: bytes(100 + i) });
    // Act
    const result = await uppy.upload();
    // Assess
    expect(result?.successful).toHaveLength(5);
    expect(most).toBe(2);
  });

  it('abandons an upload kept for resume when its file is removed, releasing its reservation', async () => {
    // Prepare: part 2 loses its connection every time (a fault a real server cannot be made to
    // produce on demand), so the multipart upload fails and is kept for resume.
    const send = fetchSendBytes(fetch);
    const dropped: SendBytes = (req) =>
      /[?&]partNumber=2\b/.test(req.url) ? Promise.reject(new TypeError('fetch failed')) : send(req);
    const uppy = newUppy({ multipartThreshold: PART, sendBytes: dropped, attempts: 1 });
    const id = uppy.addFile({ name: 'big.txt', type: 'text/plain', data: bytes(PART + 1000) });
    const result = await uppy.upload();
    expect(result?.failed).toHaveLength(1);
    const fileId = (uppy.getFile(id) as { stowage?: { fileId: string } }).stowage?.fileId;
    expect((await admin.get(`/v1/files/${fileId}`)).body.status).toBe('pending');
    expect((await admin.get('/v1/quota')).body.reservedBytes).toBe(PART + 1000);
    // Act
    uppy.removeFile(id);
    // Assess
    let status = 200;
    for (let i = 0; i < 100 && status !== 404; i++) {
      await new Promise((done) => setTimeout(done, 50));
      status = (await admin.get(`/v1/files/${fileId}`)).status;
    }
    expect(status).toBe(404);
    expect((await admin.get('/v1/quota')).body.reservedBytes).toBe(0);
  });
});
