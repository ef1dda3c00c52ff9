import { beforeAll, describe, expect, it } from 'vitest';
import { type Client, client, newTenant, sendBytes, waitForStatus } from '../support/api.js';

const SIZE = 100;
const LIMIT = 1000;
/** 100 bytes of plain text: no signature, so it passes on its declared type. */
const BYTES = Buffer.from('x'.repeat(SIZE - 1).concat('\n'));

let admin: Client;
let member: Client;
let bucket: any;

beforeAll(async () => {
  const tenant = newTenant('qc');
  admin = await client(tenant, 'alice', ['admin']);
  member = await client(tenant, 'bob', ['member']);
  bucket = (await admin.post('/v1/buckets', { name: 'Race' })).body;
  expect((await admin.put('/v1/quota', { limitBytes: LIMIT })).status).toBe(200);
});

const quota = async () => (await admin.get('/v1/quota')).body;

/** Every page of a file listing. */
async function listAll(query: string): Promise<any[]> {
  const items: any[] = [];
  let cursor: string | null = null;
  do {
    const res: any = await admin.get(
      `/v1/files?${query}&limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    );
    expect(res.status).toBe(200);
    items.push(...res.body.items);
    cursor = res.body.nextCursor;
  } while (cursor);
  return items;
}

describe('quota under concurrent uploads (API.md sections 5 and 11)', () => {
  it('reserves atomically, counts a raced completion once and releases what is abandoned', async () => {
    // 40 uploads of 100 bytes at once against a limit of 1000: exactly 10 fit.
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        member.post(`/v1/buckets/${bucket.id}/uploads`, {
          filename: `part-${i}.txt`,
          contentType: 'text/plain',
          size: SIZE,
        }),
      ),
    );
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(10);
    expect(statuses.filter((s) => s === 507)).toHaveLength(30);
    for (const refused of answers.filter((a) => a.status === 507))
      expect(refused.body.error.code).toBe('QUOTA_EXCEEDED');
    expect(await quota()).toEqual({ limitBytes: LIMIT, usedBytes: 0, reservedBytes: 1000, fileCount: 0 });
    // the refused ones left nothing behind
    expect(await listAll('status=pending')).toHaveLength(10);

    const accepted = answers.filter((a) => a.status === 201).map((a) => a.body);
    const [first, second, ...rest] = accepted;

    // The bytes arrive (the storage event is now on its way) while two completes race it.
    expect((await sendBytes(first.upload, BYTES)).status).toBe(200);
    const completes = await Promise.all([
      member.post(`/v1/files/${first.file.id}/complete`, {}),
      member.post(`/v1/files/${first.file.id}/complete`, {}),
    ]);
    for (const done of completes) {
      expect(done.status, JSON.stringify(done.body)).toBe(200);
      expect(done.body).toMatchObject({ id: first.file.id, status: 'active', size: SIZE });
    }

    // A second file is validated by its storage event alone, then soft-deleted: still counted.
    expect((await sendBytes(second.upload, BYTES)).status).toBe(200);
    expect(await waitForStatus(member, second.file.id)).toMatchObject({ status: 'active' });
    expect((await member.del(`/v1/files/${second.file.id}`)).status).toBe(204);

    // Give the first file's storage event time to land; whichever order, nothing counts twice.
    await new Promise((r) => setTimeout(r, 500));
    expect(await quota()).toEqual({
      limitBytes: LIMIT,
      usedBytes: 2 * SIZE,
      reservedBytes: 8 * SIZE,
      fileCount: 2,
    });
    const completed = await admin.get(`/v1/events?fileId=${first.file.id}&type=upload.completed`);
    expect(completed.body.items).toHaveLength(1);

    // Abandoning the rest, also concurrently, gives every reserved byte back.
    const abandoned = await Promise.all(rest.map((r) => member.del(`/v1/files/${r.file.id}/upload`)));
    expect(abandoned.map((a) => a.status)).toEqual(rest.map(() => 204));
    expect(await quota()).toEqual({
      limitBytes: LIMIT,
      usedBytes: 2 * SIZE,
      reservedBytes: 0,
      fileCount: 2,
    });

    // usedBytes is exactly the bytes of the files that still exist (active and soft-deleted).
    const live = await listAll('status=active');
    const deleted = await listAll('status=deleted');
    expect(live.map((f) => f.id)).toEqual([first.file.id]);
    expect(deleted.map((f) => f.id)).toEqual([second.file.id]);
    expect(await listAll('status=pending')).toEqual([]);
    const counted = [...live, ...deleted];
    const q = await quota();
    expect(q.usedBytes).toBe(counted.reduce((sum, f) => sum + f.size, 0));
    expect(q.fileCount).toBe(counted.length);

    // The freed headroom is usable again: 800 bytes fit, 801 do not.
    const fits = await member.post(`/v1/buckets/${bucket.id}/uploads`, {
      filename: 'big.txt',
      contentType: 'text/plain',
      size: LIMIT - 2 * SIZE,
    });
    expect(fits.status).toBe(201);
    const over = await member.post(`/v1/buckets/${bucket.id}/uploads`, {
      filename: 'one-more.txt',
      contentType: 'text/plain',
      size: 1,
    });
    expect(over.status).toBe(507);
  });
});
