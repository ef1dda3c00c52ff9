import { beforeAll, describe, expect, inject, it } from 'vitest';
import { type Answer, type Client, client, newTenant, sendBytes } from '../support/api.js';
import { minimalPdf } from '../support/samples.js';
import { createStoreBucket, storeBucket } from '../support/second-app.js';
import { uploadsBucket } from '../support/storage.js';

/**
 * A tenant's own S3-compatible provider (API.md section 3), played by the stack's embedded store
 * reached as an external server: its own endpoint, path style, credentials and bucket.
 */

let admin: Client;
let member: Client;
let providerBucket: string;
let credentials: { accessKeyId: string; secretAccessKey: string };
/** Every answer the API gave, to look for the credentials in. */
const answers: Answer[] = [];

const record = async (pending: Promise<Answer>) => {
  const answer = await pending;
  answers.push(answer);
  return answer;
};

beforeAll(async () => {
  const tenant = newTenant('cp');
  admin = await client(tenant, 'alice', ['admin']);
  member = await client(tenant, 'bob', ['member']);
  providerBucket = await createStoreBucket('tenant-own');
  const config = inject('stackConfig');
  credentials = { accessKeyId: config.s3AccessKeyId, secretAccessKey: config.s3SecretAccessKey };
});

describe('a custom S3-compatible provider', () => {
  it('stores uploads in its bucket under the tenant prefix, serves them, and never shows its credentials', async () => {
    const created = await record(
      admin.post('/v1/providers', {
        type: 's3',
        name: 'Tenant MinIO',
        config: {
          bucket: providerBucket,
          region: 'us-east-1',
          endpoint: inject('s3Endpoint'),
          forcePathStyle: true,
        },
        credentials,
      }),
    );
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({ hasCredentials: true, config: { bucket: providerBucket } });
    const provider = created.body;

    const bucket = await record(admin.post('/v1/buckets', { name: 'Contracts', providerId: provider.id }));
    expect(bucket.status).toBe(201);
    expect(bucket.body.providerId).toBe(provider.id);

    const pdf = minimalPdf('contract');
    const initiated = await record(
      member.post(`/v1/buckets/${bucket.body.id}/uploads`, {
        filename: 'contract.pdf',
        contentType: 'application/pdf',
        size: pdf.length,
      }),
    );
    expect(initiated.status).toBe(201);
    const { file, upload } = initiated.body;
    expect(new URL(upload.url).pathname.startsWith(`/${providerBucket}/`)).toBe(true);
    expect((await sendBytes(upload, pdf)).status).toBe(200);

    // No storage events come from a tenant's own store: the file waits for `complete`.
    await new Promise((r) => setTimeout(r, 300));
    expect((await record(member.get(`/v1/files/${file.id}`))).body.status).toBe('pending');

    const done = await record(member.post(`/v1/files/${file.id}/complete`, {}));
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ status: 'active', mimeType: 'application/pdf', size: pdf.length });

    const key = `tenants/${admin.tenantId}/${bucket.body.id}/${file.id}`;
    expect(await storeBucket(providerBucket).head(key)).toMatchObject({ size: pdf.length });
    expect(await uploadsBucket().head(key)).toBeNull();

    const download = await record(member.get(`/v1/files/${file.id}/download`));
    expect(download.status).toBe(200);
    expect(new URL(download.body.url).pathname).toBe(`/${providerBucket}/${key}`);
    const got = await fetch(download.body.url);
    expect(got.status).toBe(200);
    expect(Buffer.from(await got.arrayBuffer()).equals(pdf)).toBe(true);

    // The provider cannot go while a bucket uses it.
    expect((await record(admin.del(`/v1/providers/${provider.id}`))).status).toBe(409);

    await record(admin.get(`/v1/providers/${provider.id}`));
    await record(admin.get('/v1/providers'));
    await record(admin.get(`/v1/buckets/${bucket.body.id}`));
    await record(admin.get(`/v1/files?bucketId=${bucket.body.id}`));
    await record(admin.get('/v1/events?limit=1000'));
    expectNoCredentialsIn(answers);
  });
});

/** The credentials never appear in an answer (API.md section 3). */
function expectNoCredentialsIn(answers: Answer[]) {
  // SigV4 puts the access key id (never the secret) into X-Amz-Credential of presigned URLs;
  // the embedded store's id and secret are alike, so that one parameter is set aside first.
  const text = answers
    .map((a) => JSON.stringify(a.body))
    .join('\n')
    .replace(/X-Amz-Credential=[^&"]*/g, 'X-Amz-Credential=');
  expect(answers.length).toBeGreaterThanOrEqual(10);
  expect(text).not.toContain(credentials.secretAccessKey);
  expect(text).not.toContain(credentials.accessKeyId);
  expect(text).not.toMatch(/secretAccessKey|accessKeyId/);
}
