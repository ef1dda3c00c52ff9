import { DynamoDBDocumentClient, GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { tableKeys } from '../../shared/domain/keys.js';
import { hashShareToken } from '../../shared/services/share-token.js';
import { type Client, client, newTenant, sendBytes } from '../support/api.js';
import { stackDynamoClient } from '../support/dynamo.js';
import { CSV, HTML_PAGE } from '../support/samples.js';

/**
 * API.md 13.4 through the local stack: links are created, opened without a token, counted
 * atomically, revoked, expire and die with their file. The last test spends the address's
 * rate-limit burst, so it stays last.
 */

let admin: Client;
let bob: Client; // member, uploader
let carol: Client; // another member
let viewer: Client;
let stranger: Client; // another tenant
let bucket: any;
const doc = () => DynamoDBDocumentClient.from(stackDynamoClient());
const tableName = () => inject('stackConfig').tableName;

async function activeFile(
  api: Client,
  name: string,
  bytes: Buffer = CSV,
  type = 'text/csv',
  refs: any[] = [],
) {
  const init = await api.post(`/v1/buckets/${bucket.id}/uploads`, {
    filename: name,
    contentType: type,
    size: bytes.length,
    references: refs,
  });
  expect(init.status, JSON.stringify(init.body)).toBe(201);
  await sendBytes(init.body.upload, bytes);
  const done = await api.post(`/v1/files/${init.body.file.id}/complete`, {});
  expect(done.body.status).toBe('active');
  return done.body;
}

/** The public route, as a browser without a token would call it. */
const open = (url: string) => fetch(url, { redirect: 'manual' });
const json = async (res: Response) => JSON.parse(await res.text());

beforeAll(async () => {
  const tenant = newTenant('links');
  admin = await client(tenant, 'alice', ['admin']);
  bob = await client(tenant, 'bob', ['member']);
  carol = await client(tenant, 'carol', ['member']);
  viewer = await client(tenant, 'vic', ['viewer']);
  stranger = await client(newTenant('other'), 'mallory', ['admin']);
  bucket = (await admin.post('/v1/buckets', { name: 'Shared' })).body;
});

describe('creating and opening a link', () => {
  it('answers the link with its URL once; the URL redirects to the bytes with the file name', async () => {
    const file = await activeFile(bob, 'Q3 report "final".csv');
    const made = await bob.post(`/v1/files/${file.id}/links`, { expiresInSeconds: 3600, maxDownloads: 3 });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    expect(made.body).toMatchObject({
      fileId: file.id,
      maxDownloads: 3,
      downloads: 0,
      createdBy: 'bob',
      status: 'active',
    });
    expect(Date.parse(made.body.expiresAt) - Date.now()).toBeGreaterThan(3500_000);
    const url = new URL(made.body.url);
    expect(url.origin).toBe(inject('apiUrl'));
    const token = decodeURIComponent(url.pathname.replace('/v1/shared/', ''));
    // ≥ 128 bits: 32 random bytes after the tenant.
    expect(token.split('.').at(-1)).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const answer = await open(made.body.url);
    expect(answer.status).toBe(302);
    expect(answer.headers.get('cache-control')).toBe('no-store');
    const bytes = await fetch(answer.headers.get('location') as string);
    expect(bytes.status).toBe(200);
    expect(Buffer.from(await bytes.arrayBuffer())).toEqual(CSV);
    expect(bytes.headers.get('content-disposition')).toContain(
      `filename*=UTF-8''${encodeURIComponent('Q3 report "final".csv')}`,
    );

    // The token is stored only as its hash: the link item's key is the hash, and no item holds the token.
    const item = await doc().send(
      new GetCommand({
        TableName: tableName(),
        Key: { PK: tableKeys.shareLinkPk(bob.tenantId, hashShareToken(token)), SK: tableKeys.shareLinkSk },
      }),
    );
    expect(item.Item).toMatchObject({ id: made.body.id, downloads: 1 });
    expect(JSON.stringify(item.Item)).not.toContain(token.split('.').at(-1));

    const listed = await bob.get(`/v1/files/${file.id}/links`);
    expect(listed.status).toBe(200);
    expect(listed.body.items).toEqual([
      expect.objectContaining({ id: made.body.id, downloads: 1, status: 'active' }),
    ]);
    expect(JSON.stringify(listed.body)).not.toContain(token);
    expect(listed.body.items[0].url).toBeUndefined();

    const events = (await admin.get(`/v1/events?fileId=${file.id}`)).body.items;
    expect(events.find((e: any) => e.type === 'link.created')).toMatchObject({
      actor: 'bob',
      details: { linkId: made.body.id, maxDownloads: 3 },
    });
    expect(events.find((e: any) => e.type === 'file.downloaded')).toMatchObject({
      actor: `link:${made.body.id}`,
      details: { linkId: made.body.id },
    });
  });

  it('a renamed file is downloaded under its new name through an existing link', async () => {
    const file = await activeFile(bob, 'old.csv');
    const made = await bob.post(`/v1/files/${file.id}/links`, { expiresInSeconds: 600 });
    expect(made.body.maxDownloads).toBeNull();
    await bob.patch(`/v1/files/${file.id}`, { name: 'new name.csv' });
    const bytes = await fetch((await open(made.body.url)).headers.get('location') as string);
    expect(bytes.headers.get('content-disposition')).toContain("filename*=UTF-8''new%20name.csv");
  });

  it('serves types a browser would run as octet-stream, with nosniff', async () => {
    const file = await activeFile(bob, 'page.html', HTML_PAGE, 'text/html');
    const made = await bob.post(`/v1/files/${file.id}/links`, { expiresInSeconds: 600 });
    const bytes = await fetch((await open(made.body.url)).headers.get('location') as string);
    expect(bytes.headers.get('content-type')).toBe('application/octet-stream');
    expect(bytes.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('refuses bad bodies, and files that are not active or not visible', async () => {
    const file = await activeFile(bob, 'rules.csv');
    for (const body of [
      {},
      { expiresInSeconds: 59 },
      { expiresInSeconds: 2_592_001 },
      { expiresInSeconds: 60.5 },
      { expiresInSeconds: '600' },
      { expiresInSeconds: 600, maxDownloads: 0 },
      { expiresInSeconds: 600, maxDownloads: 10_001 },
      { expiresInSeconds: 600, maxDownloads: null },
      { expiresInSeconds: 600, token: 'mine' },
    ]) {
      const answer = await bob.post(`/v1/files/${file.id}/links`, body);
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(answer.body.error.code).toBe('VALIDATION_FAILED');
    }
    expect(
      (await bob.post(`/v1/files/${file.id}/links`, { expiresInSeconds: 60, maxDownloads: 10_000 })).status,
    ).toBe(201);
    expect((await bob.post(`/v1/files/${file.id}/links`, { expiresInSeconds: 2_592_000 })).status).toBe(201);
    // A viewer may download, so may share.
    expect((await viewer.post(`/v1/files/${file.id}/links`, { expiresInSeconds: 60 })).status).toBe(201);
    // Another tenant: 404 for creating and listing, as for any file it cannot see.
    expect((await stranger.post(`/v1/files/${file.id}/links`, { expiresInSeconds: 60 })).status).toBe(404);
    expect((await stranger.get(`/v1/files/${file.id}/links`)).status).toBe(404);

    const init = await bob.post(`/v1/buckets/${bucket.id}/uploads`, {
      filename: 'pending.csv',
      contentType: 'text/csv',
      size: CSV.length,
    });
    const pending = await bob.post(`/v1/files/${init.body.file.id}/links`, { expiresInSeconds: 60 });
    expect(pending.status).toBe(409);
    expect((await bob.get(`/v1/files/${file.id}/links`)).body.items).toHaveLength(3);
  });
});

describe('a link stops working', () => {
  it('after maxDownloads: 50 concurrent downloads of a 10-download link give exactly 10 redirects and 40 × 410', async () => {
    const file = await activeFile(bob, 'popular.csv');
    const made = await bob.post(`/v1/files/${file.id}/links`, { expiresInSeconds: 600, maxDownloads: 10 });
    const answers = await Promise.all(Array.from({ length: 50 }, () => open(made.body.url)));
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 302)).toHaveLength(10);
    expect(statuses.filter((s) => s === 410)).toHaveLength(40);
    const refused = answers.find((a) => a.status === 410) as Response;
    expect((await json(refused)).error.code).toBe('GONE');
    const listed = await bob.get(`/v1/files/${file.id}/links`);
    expect(listed.body.items[0]).toMatchObject({ downloads: 10, status: 'exhausted' });
    const downloads = await admin.get(`/v1/events?type=file.downloaded&fileId=${file.id}`);
    expect(downloads.body.items).toHaveLength(10);
    expect((await open(made.body.url)).status).toBe(410);
  });

  it('once revoked (by its creator or an admin; others 403, other tenants 404), replays included', async () => {
    const file = await activeFile(bob, 'revoke.csv');
    const first = await bob.post(`/v1/files/${file.id}/links`, { expiresInSeconds: 600 });
    const second = await bob.post(`/v1/files/${file.id}/links`, { expiresInSeconds: 600 });
    expect((await open(first.body.url)).status).toBe(302);

    expect((await carol.del(`/v1/links/${first.body.id}`)).status).toBe(403);
    expect((await viewer.del(`/v1/links/${first.body.id}`)).status).toBe(403);
    const foreign = await stranger.del(`/v1/links/${first.body.id}`);
    expect(foreign.status).toBe(404);
    expect(foreign.body.error.code).toBe('NOT_FOUND');
    expect((await bob.del('/v1/links/no-such-link')).status).toBe(404);
    expect((await bob.del('/v1/links/bad%20id')).status).toBe(400);
    expect((await open(first.body.url)).status).toBe(302);

    expect((await bob.del(`/v1/links/${first.body.id}`)).status).toBe(204);
    expect((await bob.del(`/v1/links/${first.body.id}`)).status).toBe(204);
    expect((await admin.del(`/v1/links/${second.body.id}`)).status).toBe(204);
    for (const url of [first.body.url, second.body.url]) {
      const answer = await open(url);
      expect(answer.status).toBe(410);
      expect((await json(answer)).error.code).toBe('GONE');
    }
    const statuses = (await bob.get(`/v1/files/${file.id}/links`)).body.items.map((l: any) => l.status);
    expect(statuses).toEqual(['revoked', 'revoked']);
    const revoked = await admin.get(`/v1/events?type=link.revoked&fileId=${file.id}`);
    expect(revoked.body.items.map((e: any) => [e.actor, e.details.linkId])).toEqual([
      ['alice', second.body.id],
      ['bob', first.body.id],
    ]);
  });

  it('when it expires', async () => {
    const file = await activeFile(bob, 'expiring.csv');
    const made = await bob.post(`/v1/files/${file.id}/links`, { expiresInSeconds: 60 });
    expect((await open(made.body.url)).status).toBe(302);
    // Time passes: the stored expiry moves into the past (the stack's clock is the real one).
    const token = decodeURIComponent(new URL(made.body.url).pathname.replace('/v1/shared/', ''));
    await doc().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: { PK: tableKeys.shareLinkPk(bob.tenantId, hashShareToken(token)), SK: tableKeys.shareLinkSk },
        UpdateExpression: 'SET expiresAt = :past',
        ExpressionAttributeValues: { ':past': new Date(Date.now() - 1000).toISOString() },
      }),
    );
    const answer = await open(made.body.url);
    expect(answer.status).toBe(410);
    expect((await json(answer)).error.message).toMatch(/expired/);
    expect((await bob.get(`/v1/files/${file.id}/links`)).body.items[0].status).toBe('expired');
  });

  it('with its file: soft delete is 410, and a restore does not bring the link back', async () => {
    const file = await activeFile(bob, 'doomed.csv');
    const made = await bob.post(`/v1/files/${file.id}/links`, { expiresInSeconds: 600 });
    expect((await bob.del(`/v1/files/${file.id}`)).status).toBe(204);
    const answer = await open(made.body.url);
    expect(answer.status).toBe(410);
    expect((await json(answer)).error.message).toMatch(/deleted/);
    expect((await bob.post(`/v1/files/${file.id}/links`, { expiresInSeconds: 600 })).status).toBe(404);
    expect((await bob.post(`/v1/files/${file.id}/restore`)).status).toBe(200);
    expect((await open(made.body.url)).status).toBe(410);
    // A new link on the restored file works.
    const fresh = await bob.post(`/v1/files/${file.id}/links`, { expiresInSeconds: 600 });
    expect((await open(fresh.body.url)).status).toBe(302);
  });
});

describe('guessing', () => {
  it('unknown, malformed, cross-tenant and tampered tokens are 404 with the same body; none needs a bearer token', async () => {
    const file = await activeFile(bob, 'guarded.csv');
    const made = await bob.post(`/v1/files/${file.id}/links`, { expiresInSeconds: 600 });
    const token = decodeURIComponent(new URL(made.body.url).pathname.replace('/v1/shared/', ''));
    const [tenant, secret] = [
      token.slice(0, token.lastIndexOf('.')),
      token.slice(token.lastIndexOf('.') + 1),
    ];
    const flipped = `${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}`;
    const base = inject('apiUrl');
    const guesses = [
      `${tenant}.${flipped}`,
      `${stranger.tenantId}.${secret}`, // the same secret under another tenant
      `${tenant}.${'A'.repeat(43)}`,
      `${tenant}.${secret}x`,
      secret,
      'x',
      `${tenant}.`,
      encodeURIComponent(`../${tenant}.${secret}`),
      `${'a'.repeat(300)}.${secret}`,
      made.body.id,
    ];
    const bodies = new Set<string>();
    for (const guess of guesses) {
      const answer = await fetch(`${base}/v1/shared/${guess}`, { redirect: 'manual' });
      expect(answer.status, guess).toBe(404);
      const body = await json(answer);
      expect(body.error.code).toBe('NOT_FOUND');
      bodies.add(JSON.stringify(body));
    }
    expect(bodies.size).toBe(1);
    // The real one, still unspent by the guesses.
    expect((await open(made.body.url)).status).toBe(302);
    // With someone's bearer token it is the same public route: the token does not matter.
    expect(
      (await fetch(made.body.url, { redirect: 'manual', headers: { authorization: 'Bearer junk' } })).status,
    ).toBe(302);
    const listed = await bob.get(`/v1/files/${file.id}/links`);
    expect(listed.body.items[0].downloads).toBe(2);
  });

  it('the link item is reachable only through its hash: the file listing of links uses the file partition', async () => {
    const file = await activeFile(bob, 'index.csv');
    await bob.post(`/v1/files/${file.id}/links`, { expiresInSeconds: 600 });
    const byFile = await doc().send(
      new QueryCommand({
        TableName: tableName(),
        IndexName: 'GSI1',
        KeyConditionExpression: 'GSI1PK = :pk',
        ExpressionAttributeValues: { ':pk': tableKeys.shareLinksByFilePk(bob.tenantId, file.id) },
      }),
    );
    expect(byFile.Items).toHaveLength(1);
    for (const item of byFile.Items ?? [])
      expect(String(item.PK).startsWith(`T#${bob.tenantId}#`)).toBe(true);
  });
});

describe('the OpenAPI document', () => {
  it('lists the share-link and PATCH routes, the shared route as public, and the metadata filter', async () => {
    const doc = await (await fetch(`${inject('apiUrl')}/v1/openapi.json`)).json();
    for (const [path, method] of [
      ['/v1/files/{fileId}', 'patch'],
      ['/v1/files/{fileId}/links', 'post'],
      ['/v1/files/{fileId}/links', 'get'],
      ['/v1/links/{linkId}', 'delete'],
      ['/v1/shared/{token}', 'get'],
    ] as const)
      expect(doc.paths[path]?.[method], `${method} ${path}`).toBeDefined();
    expect(doc.paths['/v1/shared/{token}'].get.security).toEqual([]);
    expect(Object.keys(doc.paths['/v1/shared/{token}'].get.responses)).toEqual(
      expect.arrayContaining(['302', '404', '410', '429']),
    );
    expect(doc.paths['/v1/files/{fileId}/links'].post['x-stowage-role']).toBe('viewer');
    expect(doc.components.schemas.CreateShareLinkRequest).toMatchObject({
      required: ['expiresInSeconds'],
      additionalProperties: false,
    });
    expect(doc.components.schemas.File.required).toContain('metadata');
    expect(doc.components.schemas.UpdateFileRequest.additionalProperties).toBe(false);
    for (const path of ['/v1/files', '/v1/entities/{entityType}/{entityId}/files'])
      expect(doc.paths[path].get.parameters).toContainEqual(
        expect.objectContaining({ name: 'metadata', in: 'query', style: 'form', explode: true }),
      );
  });
});

describe('rate limit (last: it spends this address burst)', () => {
  it('answers 429 RATE_LIMITED with Retry-After once an address sends too many', async () => {
    const base = inject('apiUrl');
    const answers = await Promise.all(
      Array.from({ length: 250 }, () =>
        fetch(`${base}/v1/shared/x.${'A'.repeat(43)}`, { redirect: 'manual' }),
      ),
    );
    const limited = answers.filter((a) => a.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    expect(answers.filter((a) => a.status === 404).length).toBeGreaterThan(0);
    expect(answers.every((a) => a.status === 404 || a.status === 429)).toBe(true);
    const first = limited[0] as Response;
    expect(Number(first.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await json(first)).error.code).toBe('RATE_LIMITED');
    // Other routes are not limited by it.
    expect((await bob.get('/v1/quota')).status).toBe(200);
  });
});
