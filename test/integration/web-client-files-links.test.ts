import { beforeAll, describe, expect, inject, it } from 'vitest';
import { mintDevToken } from '../../local/dev-token.js';
import { createStowageClient, StowageApiError, type StowageClient } from '../../web/client/index.js';
import { client, newTenant } from '../support/api.js';

/** The web client's rename, metadata and share-link calls (API.md 13.3, 13.4), against the local stack. */
describe('web client: rename, metadata, share links', () => {
  const tenantId = newTenant('webl');
  let alice: StowageClient;
  let bob: StowageClient; // another member with a read grant: sees, may not change
  let bucketId: string;
  const as = (userId: string) =>
    createStowageClient({
      baseUrl: inject('apiUrl'),
      getToken: () => mintDevToken({ tenantId, userId, roles: ['member'] }),
    });
  const upload = (name: string, text = 'id\n1\n') =>
    alice.upload(new Blob([text], { type: 'text/csv' }), {
      bucketId,
      filename: name,
      references: [{ entityType: 'ticket', entityId: 'T-7' }],
    });

  beforeAll(async () => {
    const admin = await client(tenantId, 'root', ['admin']);
    bucketId = (await admin.post('/v1/buckets', { name: 'Client links' })).body.id;
    // Bob sees alice's ticket files (a read grant) but may not rename them or revoke her links.
    expect((await admin.put('/v1/entities/ticket/T-7/grants/bob', { access: 'read' })).status).toBe(204);
    alice = as('alice');
    bob = as('bob');
  });

  it('renameFile and updateMetadata answer the file; listFiles and listEntityFiles filter by one metadata key', async () => {
    const file = await upload('first.csv');
    const other = await upload('second.csv');
    expect(file.metadata).toEqual({});

    const renamed = await alice.renameFile(file.id, 'First (renamed).csv');
    expect(renamed).toMatchObject({ id: file.id, originalName: 'First (renamed).csv' });
    const tagged = await alice.updateMetadata(file.id, { project: 'apollo', 'cost.center': 'x-1' });
    expect(tagged.metadata).toEqual({ project: 'apollo', 'cost.center': 'x-1' });
    await alice.updateMetadata(other.id, { project: 'gemini' });

    const byFiles = await alice.listFiles({ bucketId, metadata: { 'cost.center': 'x-1' } });
    expect(byFiles.items.map((f) => f.id)).toEqual([file.id]);
    const byEntity = await alice.listEntityFiles('ticket', 'T-7', { metadata: { project: 'gemini' } });
    expect(byEntity.items.map((f) => f.id)).toEqual([other.id]);

    const cleared = await alice.updateFile(file.id, { name: 'first.csv', metadata: {} });
    expect(cleared).toMatchObject({ originalName: 'first.csv', metadata: {} });
  });

  it('throws typed errors for refused changes', async () => {
    const file = await upload('guarded.csv');
    const tooMany = Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`k${i}`, 'v']));
    await expect(alice.updateMetadata(file.id, tooMany)).rejects.toMatchObject({
      status: 400,
      code: 'VALIDATION_FAILED',
    });
    await expect(alice.renameFile(file.id, 'a/b.csv')).rejects.toBeInstanceOf(StowageApiError);
    await expect(bob.renameFile(file.id, 'mine.csv')).rejects.toMatchObject({
      status: 403,
      code: 'FORBIDDEN',
    });
  });

  it('createShareLink, listShareLinks, revokeShareLink', async () => {
    const file = await upload('shared.csv', 'id\n42\n');
    const link = await alice.createShareLink(file.id, { expiresInSeconds: 3600, maxDownloads: 2 });
    expect(link).toMatchObject({ fileId: file.id, maxDownloads: 2, downloads: 0, status: 'active' });

    const followed = await fetch(link.url);
    expect(followed.status).toBe(200);
    expect(await followed.text()).toBe('id\n42\n');

    const links = await alice.listShareLinks(file.id);
    expect(links).toEqual([expect.objectContaining({ id: link.id, downloads: 1, status: 'active' })]);
    expect('url' in (links[0] as object)).toBe(false);

    await expect(bob.revokeShareLink(link.id)).rejects.toMatchObject({ status: 403 });
    await alice.revokeShareLink(link.id);
    expect((await alice.listShareLinks(file.id))[0]).toMatchObject({ status: 'revoked' });
    expect((await fetch(link.url, { redirect: 'manual' })).status).toBe(410);
    await expect(alice.createShareLink(file.id, { expiresInSeconds: 10 })).rejects.toMatchObject({
      status: 400,
      code: 'VALIDATION_FAILED',
    });
  });
});
