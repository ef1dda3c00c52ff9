import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createS3Client } from '../../../shared/adapters/s3-object-store.js';
import { observeStorageCalls, type StorageCall } from '../../../shared/adapters/storage-calls.js';

/** An S3-shaped server: answers HEAD with 200, after `failures` 503s (a retryable fault). */
let server: Server;
let failures = 0;
let requests = 0;
beforeAll(async () => {
  server = createServer((_req, res) => {
    requests++;
    if (failures > 0) {
      failures--;
      res.writeHead(503).end();
      return;
    }
    res.writeHead(200, { etag: '"abc"', 'content-length': '0', 'last-modified': new Date().toUTCString() });
    res.end();
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
});
afterAll(() => new Promise<void>((done) => server.close(() => done())));

function observedClient() {
  const calls: StorageCall[] = [];
  const client = observeStorageCalls(
    createS3Client({
      region: 'us-east-1',
      endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      forcePathStyle: true,
      credentials: { accessKeyId: 'test-key-id', secretAccessKey: 'test-secret' },
      maxAttempts: 3,
    }),
    's3',
    (call) => calls.push(call),
  );
  return { client, calls };
}

describe('observeStorageCalls', () => {
  it('counts each request on the wire by command, and nothing for a presigned URL', async () => {
    // Prepare
    const { client, calls } = observedClient();
    const before = requests;
    // Act
    await getSignedUrl(client, new PutObjectCommand({ Bucket: 'b', Key: 'k' }), { expiresIn: 60 });
    await client.send(new HeadObjectCommand({ Bucket: 'b', Key: 'k' }));
    // Assess
    expect(requests - before).toBe(1);
    expect(calls).toEqual([{ service: 's3', command: 'HeadObject' }]);
  });

  it('counts a retried request as the round trips it made', async () => {
    const { client, calls } = observedClient();
    failures = 1;
    const before = requests;
    await client.send(new HeadObjectCommand({ Bucket: 'b', Key: 'k' }));
    expect(requests - before).toBe(2);
    expect(calls).toHaveLength(2);
  });
});
