import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { mintDevToken } from '../local/dev-token.js';
import type { BenchContext } from './lib/bench-context.js';
import { createBenchTenant } from './lib/bench-tenant.js';
import { type BenchReport, megabytes, ratio, timingTable } from './lib/report.js';

const run = promisify(execFile);
const MiB = 1024 * 1024;
const CHILD = fileURLToPath(new URL('./lib/big-upload.child.ts', import.meta.url));
const TSX = fileURLToPath(new URL('../node_modules/tsx/dist/cli.mjs', import.meta.url));

interface ChildAnswer {
  ms: number;
  maxRssBytes: number;
  /** Resident memory once imports are done and the file is open, before the upload. */
  idleRssBytes: number;
  partSize: number;
  fileId?: string;
  status?: string;
}

/**
 * A big upload (1 GiB; `BENCH_BIG_UPLOAD_MIB`) through the web client in Node (initiate, part
 * URLs asked for as it goes, a SHA-256 per part, complete) against `@aws-sdk/lib-storage`'s
 * Upload of the same file to the same embedded store with the same part size and parallelism:
 * time and the client's peak resident memory, each client in a process of its own. Then the
 * background check of the declared whole-file sha256 (read back from the store) against
 * `sha256sum` of the file on disk.
 */
export async function bigUploadBench(ctx: BenchContext): Promise<BenchReport> {
  const size = Number(process.env.BENCH_BIG_UPLOAD_MIB ?? 1024) * MiB;
  const rounds = Number(process.env.BENCH_BIG_UPLOAD_ROUNDS ?? 2);
  const concurrency = 4;
  const path = join(ctx.dataDir, 'big-upload.bin');
  ctx.progress(`big-upload: writing ${megabytes(size)} of random bytes`);
  await writeRandom(path, size);
  const sha256sum = async () => (await run('sha256sum', [path])).stdout.split(' ')[0] as string;
  const sha = await sha256sum();
  const sha256sumMs: number[] = [];

  const tenant = await createBenchTenant(ctx.stack, 'big');
  const token = await mintDevToken({ tenantId: tenant.tenantId, userId: tenant.userId, roles: ['admin'] });
  const { s3, uploadsBucket } = ctx.stack.app.config;
  const base = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    BIG_UPLOAD_CONCURRENCY: String(concurrency),
    // `BENCH_BIG_UPLOAD_PART_CHECKSUMS=false` sends the parts unhashed, to see what hashing costs.
    BIG_UPLOAD_PART_CHECKSUMS: process.env.BENCH_BIG_UPLOAD_PART_CHECKSUMS ?? 'true',
  };
  const child = async (mode: 'stowage' | 'sdk', extra: Record<string, string>): Promise<ChildAnswer> => {
    const { stdout } = await run(process.execPath, [TSX, CHILD, mode, path], {
      env: { ...base, ...extra },
      maxBuffer: MiB,
    });
    return JSON.parse(stdout.trim().split('\n').at(-1) as string) as ChildAnswer;
  };

  // Only the call that hashed: a second ask for a file already settled answers null at once.
  const verify: number[] = [];
  const validation = ctx.stack.app.services.validation;
  const original = validation.verifyChecksum;
  validation.verifyChecksum = async (...args) => {
    const started = performance.now();
    const outcome = await original.apply(validation, args);
    if (outcome) verify.push(performance.now() - started);
    return outcome;
  };
  const stowage: ChildAnswer[] = [];
  const sdk: ChildAnswer[] = [];
  try {
    for (let round = 1; round <= rounds; round++) {
      ctx.progress(`big-upload: round ${round} of ${rounds}, web client then lib-storage`);
      const answer = await child('stowage', {
        BIG_UPLOAD_API: ctx.stack.url,
        BIG_UPLOAD_TOKEN: token,
        BIG_UPLOAD_BUCKET: tenant.bucketId,
        BIG_UPLOAD_SHA256: sha,
      });
      stowage.push(answer);
      // The declared sha256 is checked in the background, after `complete` answered.
      await ctx.stack.checksumsIdle();
      const settled = await tenant.invoke('GET', `/v1/files/${answer.fileId}`);
      if (settled.body.status !== 'active') throw new Error(`the big file ended ${settled.body.status}`);
      await tenant.invoke('DELETE', `/v1/files/${answer.fileId}`);

      const key = `bench-big-upload/${round}`;
      sdk.push(
        await child('sdk', {
          BIG_UPLOAD_PART_SIZE: String(answer.partSize),
          BIG_UPLOAD_S3_ENDPOINT: s3.endpoint ?? '',
          BIG_UPLOAD_S3_KEY_ID: s3.credentials?.accessKeyId ?? '',
          BIG_UPLOAD_S3_SECRET: s3.credentials?.secretAccessKey ?? '',
          BIG_UPLOAD_S3_BUCKET: uploadsBucket,
          BIG_UPLOAD_S3_KEY: key,
        }),
      );
      await ctx.stack.app.deps.stores.defaultStore().delete(key);
      sha256sumMs.push((await timed(sha256sum)).ms);
    }
  } finally {
    validation.verifyChecksum = original;
    await rm(path, { force: true });
  }

  const label = megabytes(size);
  const upload = timingTable(
    `${label} upload, ${concurrency} parts at a time, part size ${megabytes(stowage[0]?.partSize ?? 0)}`,
    { label: 'lib-storage Upload (S3 direct)', samples: sdk.map((a) => a.ms) },
    [{ label: 'web client (API + presigned parts + part SHA-256)', samples: stowage.map((a) => a.ms) }],
  );
  const checksum = timingTable(
    `${label} whole-file sha256`,
    { label: 'sha256sum of the file on disk', samples: sha256sumMs },
    [{ label: 'background check (read back from the store)', samples: verify }],
  );
  const peak = (answers: ChildAnswer[]) => Math.max(...answers.map((a) => a.maxRssBytes));
  const idle = (answers: ChildAnswer[]) => Math.min(...answers.map((a) => a.idleRssBytes));
  const median = (t: typeof upload, l: string) => t.summaries.get(l)?.median ?? Number.NaN;
  const mibPerSecond = (ms: number) => `${(size / MiB / (ms / 1000)).toFixed(0)} MiB/s`;
  const verifyMs = median(checksum, 'background check (read back from the store)');
  const shaMs = median(checksum, 'sha256sum of the file on disk');
  return {
    tables: [
      upload.table,
      checksum.table,
      {
        title: 'client peak resident memory (its own process)',
        columns: ['client', 'idle RSS', 'peak RSS', 'peak above idle'],
        rows: [
          [
            'lib-storage Upload',
            megabytes(idle(sdk)),
            megabytes(peak(sdk)),
            megabytes(peak(sdk) - idle(sdk)),
          ],
          [
            'web client',
            megabytes(idle(stowage)),
            megabytes(peak(stowage)),
            megabytes(peak(stowage) - idle(stowage)),
          ],
        ],
      },
    ],
    headlines: [
      {
        label: `big upload ${label} throughput, web client / lib-storage`,
        value: ratio(
          median(upload, 'lib-storage Upload (S3 direct)') /
            median(upload, 'web client (API + presigned parts + part SHA-256)'),
        ),
        target: '≥ 0.9x',
      },
      { label: 'big upload client peak RSS / lib-storage', value: ratio(peak(stowage) / peak(sdk)) },
      {
        label: 'big upload web client peak RSS above idle',
        value: megabytes(peak(stowage) - idle(stowage)),
        target: 'under 100 MB, flat in file size',
      },
      {
        label: `background sha256 ${label}: ${mibPerSecond(verifyMs)} / sha256sum ${mibPerSecond(shaMs)}`,
        value: ratio(verifyMs / shaMs),
      },
    ],
    notes: [
      'Both clients read the file from disk and send to the same embedded store on loopback; the web client also hashes every part (SHA-256 signed into its URL, checked by the store) and calls the API for initiate, part URLs and complete.',
      'The background check reads the whole object back through the store and hashes it with Node (OpenSSL); the reference is coreutils sha256sum of the file on disk, in a process of its own, spawned as a CLI is used.',
    ],
  };
}

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await work();
  return { value, ms: performance.now() - started };
}

/** `size` random bytes to `path`, 8 MiB at a time. */
async function writeRandom(path: string, size: number): Promise<void> {
  const out = createWriteStream(path);
  for (let written = 0; written < size; written += 8 * MiB) {
    const chunk = randomBytes(Math.min(8 * MiB, size - written));
    if (!out.write(chunk)) await new Promise<void>((go) => out.once('drain', () => go()));
  }
  await new Promise<void>((done, fail) => out.end((error?: Error | null) => (error ? fail(error) : done())));
}
