import { createReadStream, openAsBlob } from 'node:fs';
import { stat } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { createStowageClient, type ResumeRecord } from '../../web/client/index.js';

/**
 * One big upload in a process of its own, so its peak resident memory is the client's alone
 * (the stack runs in the parent). argv: `stowage` or `sdk`, then the file's path. Settings come
 * in the environment (never logged); the answer is one JSON line on stdout.
 */
const [mode, path] = process.argv.slice(2);
if (!path || (mode !== 'stowage' && mode !== 'sdk'))
  throw new Error('usage: big-upload.child.ts stowage|sdk FILE');
const env = (name: string) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const concurrency = Number(env('BIG_UPLOAD_CONCURRENCY'));
const { size, mtimeMs } = await stat(path);
const file = await openAsBlob(path, { type: 'application/octet-stream' });
// Everything imported and the file opened: what the process holds before a byte goes.
const idleRssBytes = process.memoryUsage().rss;
const started = performance.now();
let partSize = Number(process.env.BIG_UPLOAD_PART_SIZE ?? 0);

if (mode === 'stowage') {
  const token = env('BIG_UPLOAD_TOKEN');
  const records = new Map<string, ResumeRecord>();
  const client = createStowageClient({ baseUrl: env('BIG_UPLOAD_API'), getToken: async () => token });
  const done = await client.upload(file, {
    bucketId: env('BIG_UPLOAD_BUCKET'),
    filename: 'big.bin',
    lastModified: mtimeMs,
    multipart: true,
    concurrency,
    partChecksums: process.env.BIG_UPLOAD_PART_CHECKSUMS !== 'false',
    ...(process.env.BIG_UPLOAD_SHA256 ? { sha256: process.env.BIG_UPLOAD_SHA256 } : {}),
    resume: {
      get: (key) => records.get(key),
      set: (key, record) => {
        partSize = record.partSize;
        records.set(key, record);
      },
      delete: (key) => records.delete(key),
    },
  });
  if (done.size !== size) throw new Error(`the service holds ${done.size} bytes of ${size}`);
  process.stdout.write(
    `${JSON.stringify({ ms: performance.now() - started, maxRssBytes: process.resourceUsage().maxRSS * 1024, idleRssBytes, partSize, fileId: done.id, status: done.status })}\n`,
  );
} else {
  const client = new S3Client({
    endpoint: env('BIG_UPLOAD_S3_ENDPOINT'),
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: env('BIG_UPLOAD_S3_KEY_ID'), secretAccessKey: env('BIG_UPLOAD_S3_SECRET') },
  });
  const upload = new Upload({
    client,
    params: {
      Bucket: env('BIG_UPLOAD_S3_BUCKET'),
      Key: env('BIG_UPLOAD_S3_KEY'),
      Body: createReadStream(path),
    },
    queueSize: concurrency,
    partSize,
  });
  await upload.done();
  client.destroy();
  process.stdout.write(
    `${JSON.stringify({ ms: performance.now() - started, maxRssBytes: process.resourceUsage().maxRSS * 1024, idleRssBytes, partSize })}\n`,
  );
}
