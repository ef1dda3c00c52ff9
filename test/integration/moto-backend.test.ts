import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateBucketCommand,
  GetObjectTaggingCommand,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type LocalStack, startLocalStack } from '../../local/stack.js';
import { type Client, client, newTenant, sendBytes, sha256Hex } from '../support/api.js';
import { HTML_PAGE, minimalPdf } from '../support/samples.js';

// The API's core flow on a second, independent backend: the local stack with moto as its S3
// store and its DynamoDB. moto differs from S3 where it matters to safety (it ignores
// `response-content-*` overrides and does not verify `x-amz-checksum-sha256` on a PUT), so the
// service must not lean on either (issue 9, items 7 and 8).

const moto = inject('moto');
const MiB = 1024 * 1024;

describe.skipIf(moto.unavailable !== null)(
  `the core flow on moto${moto.unavailable ? ` (skipped: ${moto.unavailable})` : ''}`,
  () => {
    let stack: LocalStack;
    let dataDir: string;
    let admin: Client;
    let bucketId: string;
    let uploadsBucket: string;
    const motoS3 = () =>
      new S3Client({
        region: 'us-east-1',
        endpoint: moto.endpoint,
        forcePathStyle: true,
        credentials: { accessKeyId: 'moto', secretAccessKey: 'moto' },
      });

    beforeAll(async () => {
      const names = {
        uploads: `m-up-${randomBytes(4).toString('hex')}`,
        previews: `m-pv-${randomBytes(4).toString('hex')}`,
      };
      const credentials = { accessKeyId: 'moto', secretAccessKey: 'moto' };
      const s3 = new S3Client({
        region: 'us-east-1',
        endpoint: moto.endpoint,
        forcePathStyle: true,
        credentials,
      });
      uploadsBucket = names.uploads;
      for (const bucket of Object.values(names)) await s3.send(new CreateBucketCommand({ Bucket: bucket }));
      // Versioned, as the AWS deployment's uploads bucket is: downloads then name the validated version.
      await s3.send(
        new PutBucketVersioningCommand({
          Bucket: names.uploads,
          VersioningConfiguration: { Status: 'Enabled' },
        }),
      );
      s3.destroy();
      dataDir = await mkdtemp(join(tmpdir(), 'stowage-moto-'));
      stack = await startLocalStack({
        env: {
          PATH: process.env.PATH,
          S3_ENDPOINT: moto.endpoint,
          S3_ACCESS_KEY_ID: credentials.accessKeyId,
          S3_SECRET_ACCESS_KEY: credentials.secretAccessKey,
          S3_BUCKET: names.uploads,
          PREVIEW_BUCKET: names.previews,
          DYNAMODB_ENDPOINT: moto.endpoint,
          DYNAMODB_ACCESS_KEY_ID: credentials.accessKeyId,
          DYNAMODB_SECRET_ACCESS_KEY: credentials.secretAccessKey,
          TABLE_NAME: `stowage-${randomBytes(4).toString('hex')}`,
          // An external DynamoDB's table is only checked unless the stack is told to create it.
          FILESTORE_CREATE_MISSING: 'true',
          PREVIEW_AHEAD: 'off',
        },
        port: 0,
        dataDir,
        maintenanceIntervalMs: 0,
      });
      admin = await client(newTenant('moto'), 'alice', ['admin'], stack.url);
      const bucket = await admin.post('/v1/buckets', { name: 'Anything' });
      expect(bucket.status, JSON.stringify(bucket.body)).toBe(201);
      bucketId = bucket.body.id;
    });

    afterAll(async () => {
      await stack?.stop();
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
    });

    async function upload(
      name: string,
      contentType: string,
      bytes: Uint8Array,
      extra: Record<string, unknown> = {},
    ) {
      const initiated = await admin.post(`/v1/buckets/${bucketId}/uploads`, {
        filename: name,
        contentType,
        size: bytes.length,
        ...extra,
      });
      expect(initiated.status, JSON.stringify(initiated.body)).toBe(201);
      return initiated.body as { file: { id: string }; upload: any };
    }

    async function downloaded(fileId: string) {
      const link = await admin.get(`/v1/files/${fileId}/download`);
      expect(link.status).toBe(200);
      expect(new URL(link.body.url).searchParams.get('versionId')).toBeTruthy();
      return fetch(link.body.url);
    }

    it('uploads by PUT and POST, completes, and downloads the same bytes', async () => {
      for (const method of ['PUT', 'POST'] as const) {
        const pdf = minimalPdf(method);
        const { file, upload: instructions } = await upload(`${method}.pdf`, 'application/pdf', pdf, {
          uploadMethod: method,
        });
        expect((await sendBytes(instructions, pdf)).status).toBeLessThan(300);
        const completed = await admin.post(`/v1/files/${file.id}/complete`);
        expect(completed.body).toMatchObject({
          status: 'active',
          mimeType: 'application/pdf',
          size: pdf.length,
        });
        const got = await downloaded(file.id);
        expect(Buffer.from(await got.arrayBuffer())).toEqual(pdf);
      }
    });

    it('serves an uploaded HTML page as an octet-stream attachment though moto ignores the overrides', async () => {
      // Prepare
      const { file, upload: instructions } = await upload('page.html', 'text/html', HTML_PAGE);
      await sendBytes(instructions, HTML_PAGE);
      expect((await admin.post(`/v1/files/${file.id}/complete`)).body.status).toBe('active');

      // Act
      const got = await downloaded(file.id);

      // Assess: what the object was stored with, since moto drops response-content-*.
      expect(got.headers.get('content-type')).toBe('application/octet-stream');
      expect(got.headers.get('content-disposition')).toMatch(/^attachment; filename="page.html"/);
    });

    it('rejects bytes other than the declared sha256 where the store does not check it', async () => {
      // Prepare: moto stores a PUT whose x-amz-checksum-sha256 does not match its body.
      const pdf = minimalPdf('declared');
      const other = minimalPdf('sent!!!!');
      expect(other.length).toBe(pdf.length);
      const { file, upload: instructions } = await upload('scan.pdf', 'application/pdf', pdf, {
        sha256: await sha256Hex(pdf),
      });
      expect((await sendBytes(instructions, other)).status).toBe(200);

      // Act
      const completed = await admin.post(`/v1/files/${file.id}/complete`);

      // Assess
      expect(completed.body).toMatchObject({
        status: 'rejected',
        rejectionReason: 'CHECKSUM_MISMATCH',
        sha256: expect.any(String),
      });
      expect((await admin.get('/v1/quota')).body.reservedBytes).toBe(0);
    });

    it('refuses a replayed upload URL once the file is active, and keeps serving the validated bytes', async () => {
      // Prepare
      const pdf = minimalPdf('first');
      const { file, upload: instructions } = await upload('once.pdf', 'application/pdf', pdf);
      await sendBytes(instructions, pdf);
      expect((await admin.post(`/v1/files/${file.id}/complete`)).body.status).toBe('active');

      // Act: the same URL and headers again, with other bytes of the same length.
      const replay = await sendBytes(
        instructions,
        Buffer.from(pdf.toString('latin1').replace('first', 'evil!'), 'latin1'),
      );

      // Assess
      expect(replay.status).toBe(412);
      expect(Buffer.from(await (await downloaded(file.id)).arrayBuffer())).toEqual(pdf);
    });

    it('completes a multipart upload whose part URLs sign their lengths', async () => {
      // Prepare
      const bytes = Buffer.concat([minimalPdf('big'), randomBytes(9 * MiB)]);
      const { file, upload: instructions } = await upload('big.pdf', 'application/pdf', bytes, {
        multipart: true,
      });
      expect(instructions.method).toBe('MULTIPART');
      const parts = [];
      for (const part of instructions.parts) {
        const start = (part.partNumber - 1) * instructions.partSize;
        const body = new Uint8Array(bytes.subarray(start, start + instructions.partSize));
        const sent = await fetch(part.url, { method: 'PUT', body });
        expect(sent.status).toBe(200);
        parts.push({ partNumber: part.partNumber, etag: sent.headers.get('etag') });
      }

      // Act
      const completed = await admin.post(`/v1/files/${file.id}/complete`, { parts });

      // Assess
      expect(completed.body).toMatchObject({ status: 'active', size: bytes.length });
      expect(Buffer.from(await (await downloaded(file.id)).arrayBuffer()).equals(bytes)).toBe(true);
    });

    it('quarantines a rejected object by tagging its version and hiding it, without a copy', async () => {
      // Prepare: an HTML page declared as a PDF, on a versioned bucket.
      const { file, upload: instructions } = await upload('fake.pdf', 'application/pdf', HTML_PAGE);
      await sendBytes(instructions, HTML_PAGE);

      // Act
      const completed = await admin.post(`/v1/files/${file.id}/complete`);

      // Assess: nothing at the key; the rejected version kept, tagged, behind a delete marker.
      expect(completed.body).toMatchObject({ status: 'rejected', rejectionReason: 'MIME_TYPE_MISMATCH' });
      const key = `tenants/${admin.tenantId}/${bucketId}/${file.id}`;
      const s3 = motoS3();
      const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: uploadsBucket, Prefix: key }));
      expect(versions.DeleteMarkers?.filter((m) => m.IsLatest)).toHaveLength(1);
      const [kept] = versions.Versions ?? [];
      const tags = await s3.send(
        new GetObjectTaggingCommand({ Bucket: uploadsBucket, Key: key, VersionId: kept?.VersionId }),
      );
      expect(tags.TagSet).toEqual([{ Key: 'stowage-quarantine', Value: 'true' }]);
      const copies = await s3.send(
        new ListObjectVersionsCommand({ Bucket: uploadsBucket, Prefix: `quarantine/${admin.tenantId}/` }),
      );
      expect(copies.Versions ?? []).toEqual([]);
      s3.destroy();
    });

    it("verifies a multipart upload's declared sha256 in the background, and its parts by their own", async () => {
      // Prepare: part checksums from the start, and a whole-file sha256 that does not match.
      const bytes = Buffer.concat([minimalPdf('parts'), randomBytes(9 * MiB)]);
      const partSize = 8 * MiB;
      const partHex = (n: number) => sha256Hex(bytes.subarray((n - 1) * partSize, n * partSize));
      const { file, upload: instructions } = await upload('parts.pdf', 'application/pdf', bytes, {
        multipart: true,
        partSha256: [await partHex(1)],
        sha256: await sha256Hex(randomBytes(32)),
      });
      const second = await admin.post(`/v1/files/${file.id}/upload/parts`, {
        partNumbers: [2],
        partSha256: [await partHex(2)],
      });
      const parts = [];
      for (const part of [...instructions.parts, ...second.body.parts]) {
        const start = (part.partNumber - 1) * partSize;
        const body = new Uint8Array(bytes.subarray(start, start + partSize));
        const sent = await fetch(part.url, { method: 'PUT', headers: part.headers, body });
        expect(sent.status).toBe(200);
        parts.push({ partNumber: part.partNumber, etag: sent.headers.get('etag') });
      }

      // Act
      const completed = await admin.post(`/v1/files/${file.id}/complete`, { parts });
      await stack.checksumsIdle();

      // Assess
      expect(completed.body).toMatchObject({ status: 'pending', verifying: true });
      expect((await admin.get(`/v1/files/${file.id}`)).body).toMatchObject({
        status: 'rejected',
        rejectionReason: 'CHECKSUM_MISMATCH',
      });
    });

    it('soft-deletes and restores, counting the bytes once', async () => {
      const pdf = minimalPdf('keep');
      const { file, upload: instructions } = await upload('keep.pdf', 'application/pdf', pdf);
      await sendBytes(instructions, pdf);
      await admin.post(`/v1/files/${file.id}/complete`);
      const used = (await admin.get('/v1/quota')).body.usedBytes;
      expect((await admin.del(`/v1/files/${file.id}`)).status).toBe(204);
      expect((await admin.get(`/v1/files/${file.id}/download`)).status).toBe(404);
      expect((await admin.post(`/v1/files/${file.id}/restore`)).body.status).toBe('active');
      expect((await admin.get('/v1/quota')).body.usedBytes).toBe(used);
    });
  },
);
