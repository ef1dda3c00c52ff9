import { beforeAll, describe, expect, it } from 'vitest';
import { MAX_REFERENCES_PER_FILE } from '../../shared/domain/limits.js';
import { type Client, client, newTenant, sendBytes } from '../support/api.js';
import { CSV } from '../support/samples.js';

/**
 * Issue 9, item 12: references are denormalised on the file item, so their number is capped
 * (2,008 were accepted on one file before, taking the item towards DynamoDB's 400 KB). Through
 * the running stack: one past the cap is 409 naming the limit, concurrent adds never overshoot
 * it, and re-adding a reference the file already holds stays an idempotent 204 at the cap.
 */

let admin: Client;
let member: Client;
let bucketId: string;

beforeAll(async () => {
  const tenant = newTenant('refcap');
  admin = await client(tenant, 'alice', ['admin']);
  member = await client(tenant, 'bob', ['member']);
  bucketId = (await admin.post('/v1/buckets', { name: 'Refs' })).body.id;
});

/** An active file with `n` references `ticket/T-0..n-1` (50 given at upload, the rest added). */
async function fileWithReferences(n: number): Promise<string> {
  const initial = Math.min(n, 50);
  const init = await member.post(`/v1/buckets/${bucketId}/uploads`, {
    filename: 'refs.csv',
    contentType: 'text/csv',
    size: CSV.length,
    references: Array.from({ length: initial }, (_, i) => ({ entityType: 'ticket', entityId: `T-${i}` })),
  });
  expect(init.status, JSON.stringify(init.body)).toBe(201);
  await sendBytes(init.body.upload, CSV);
  expect((await member.post(`/v1/files/${init.body.file.id}/complete`, {})).body.status).toBe('active');
  for (let i = initial; i < n; i++)
    expect((await member.put(`/v1/files/${init.body.file.id}/references/ticket/T-${i}`)).status).toBe(204);
  return init.body.file.id;
}

describe('references per file are capped', () => {
  it(`refuses reference ${MAX_REFERENCES_PER_FILE + 1} with 409 naming the limit; an existing one is still 204`, async () => {
    const fileId = await fileWithReferences(MAX_REFERENCES_PER_FILE);
    const over = await member.put(`/v1/files/${fileId}/references/project/ONE-TOO-MANY`);
    expect(over.status).toBe(409);
    expect(over.body.error.code).toBe('CONFLICT');
    expect(over.body.error.message).toContain(String(MAX_REFERENCES_PER_FILE));
    expect(over.body.error.details).toEqual({ maxReferences: MAX_REFERENCES_PER_FILE });

    expect((await member.put(`/v1/files/${fileId}/references/ticket/T-7`)).status).toBe(204);
    const file = (await member.get(`/v1/files/${fileId}`)).body;
    expect(file.references).toHaveLength(MAX_REFERENCES_PER_FILE);
    expect(file.references).not.toContainEqual({ entityType: 'project', entityId: 'ONE-TOO-MANY' });
    // Nothing half-written: the refused reference's entity lists no file.
    expect((await member.get('/v1/entities/project/ONE-TOO-MANY/files')).body.items).toEqual([]);

    // Removing one makes room again.
    expect((await member.del(`/v1/files/${fileId}/references/ticket/T-0`)).status).toBe(204);
    expect((await member.put(`/v1/files/${fileId}/references/project/ONE-TOO-MANY`)).status).toBe(204);
  });

  it('20 concurrent adds to a file 10 short of the cap: exactly 10 succeed', async () => {
    const fileId = await fileWithReferences(MAX_REFERENCES_PER_FILE - 10);
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => member.put(`/v1/files/${fileId}/references/race/R-${i}`)),
    );
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses).toEqual([...Array(10).fill(204), ...Array(10).fill(409)]);
    const file = (await member.get(`/v1/files/${fileId}`)).body;
    expect(file.references).toHaveLength(MAX_REFERENCES_PER_FILE);
    // The entities list exactly the references that were accepted.
    const accepted = answers.flatMap((a, i) => (a.status === 204 ? [`R-${i}`] : []));
    for (let i = 0; i < 20; i++) {
      const listed = (await member.get(`/v1/entities/race/R-${i}/files`)).body.items.length;
      expect(listed).toBe(accepted.includes(`R-${i}`) ? 1 : 0);
    }
  });
});
