import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { BenchContext } from './lib/bench-context.js';
import { createBenchTenant } from './lib/bench-tenant.js';
import { holdStorageEvents } from './lib/hold-storage-events.js';
import { createPdfBytes } from './lib/pdf-bytes.js';
import { pendingUpload } from './lib/pending-upload.js';
import { type BenchReport, megabytes, ms, ratio } from './lib/report.js';

const MiB = 1024 * 1024;
const SIZE = 200 * MiB;
const TARGET_BYTES = 150e6;
const CHILD_TIMEOUT_MS = 120_000;
const CHILD = fileURLToPath(new URL('./validation-memory.child.ts', import.meta.url));
const REPO = fileURLToPath(new URL('..', import.meta.url));

interface ChildResult {
  idleRss: number;
  peakRss: number;
  peakHeapUsed: number;
  peakArrayBuffers: number;
  validateMs: number;
  outcome: string;
  maxRss: number;
}

/**
 * Peak RSS of a fresh process validating a 200 MiB upload, against the same process idle after
 * composing the app: once with no checksum (HEAD + ranged read) and once with a declared sha256,
 * which the embedded store cannot verify, so the service streams the whole object to hash it.
 */
export async function validationMemoryBench(ctx: BenchContext): Promise<BenchReport> {
  const { stack } = ctx;
  const tenant = await createBenchTenant(stack, 'memory', { maxFileSize: 512 * MiB });
  const bytes = createPdfBytes();
  const events = holdStorageEvents(stack.app.services.validation);
  try {
    ctx.progress('validation-memory: uploading two 200 MiB PDFs (one with a declared sha256)');
    const plain = await pendingUpload(ctx, tenant, { size: SIZE, bytes, hold: events.hold });
    const hashed = await pendingUpload(ctx, tenant, {
      size: SIZE,
      bytes,
      sha256: bytes.sha256Hex(SIZE),
      hold: events.hold,
    });

    const cases = [
      { label: '200 MiB, no checksum', file: plain.file },
      { label: '200 MiB, sha256 (streamed once)', file: hashed.file },
    ];
    const rows: string[][] = [];
    const headlines = [];
    for (const c of cases) {
      ctx.progress(`validation-memory: child process validates ${c.label}`);
      const result = await runChild(ctx, c.file.tenantId, c.file.id);
      if (result.outcome !== 'active') throw new Error(`${c.label} ended ${result.outcome}, not active.`);
      rows.push(
        [
          `${c.label}: idle after compose (reference)`,
          megabytes(result.idleRss),
          '',
          '1.00x',
          '',
          '',
          '',
          '',
        ],
        [
          `${c.label}: peak while validating`,
          megabytes(result.peakRss),
          megabytes(result.peakRss - result.idleRss),
          ratio(result.peakRss / result.idleRss),
          ms(result.validateMs),
          megabytes(result.peakHeapUsed),
          megabytes(result.peakArrayBuffers),
          megabytes(result.maxRss),
        ],
      );
      headlines.push({
        label: `peak RSS validating ${c.label}`,
        value: `${megabytes(result.peakRss)} (idle ${megabytes(result.idleRss)}, +${megabytes(result.peakRss - result.idleRss)})`,
        target: `< ${megabytes(TARGET_BYTES)}`,
      });
    }
    return {
      tables: [
        {
          title: 'RSS of a child process (node --import tsx) running validateArrival, sampled every 10 ms',
          columns: [
            'case',
            'RSS',
            'delta',
            'ratio',
            'validate ms',
            'heapUsed',
            'arrayBuffers',
            'kernel maxRSS',
          ],
          rows,
        },
      ],
      headlines,
      notes: [
        'each case is a fresh process: compose, 300 ms idle (reference), read the record, validateArrival (peak).',
        'heapUsed and arrayBuffers are from the sample with the highest RSS; kernel maxRSS is the lifetime high-water mark (getrusage), startup and tsx included.',
      ],
    };
  } finally {
    events.restore();
  }
}

function runChild(ctx: BenchContext, tenantId: string, fileId: string): Promise<ChildResult> {
  const { config } = ctx.stack.app;
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    S3_ENDPOINT: config.s3.endpoint ?? '',
    S3_ACCESS_KEY_ID: config.s3.credentials?.accessKeyId ?? '',
    S3_SECRET_ACCESS_KEY: config.s3.credentials?.secretAccessKey ?? '',
    DYNAMODB_ENDPOINT: config.dynamo.endpoint ?? '',
    DYNAMODB_ACCESS_KEY_ID: config.dynamo.credentials?.accessKeyId ?? '',
    DYNAMODB_SECRET_ACCESS_KEY: config.dynamo.credentials?.secretAccessKey ?? '',
    TABLE_NAME: config.tableName,
    UPLOADS_BUCKET: config.uploadsBucket,
    FILESTORE_DATA_DIR: ctx.dataDir,
    // The SDK's Node 20 notice is harmless and would only clutter the output.
    NODE_NO_WARNINGS: '1',
  };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, tenantId, fileId], {
      cwd: REPO,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const line = stdout.trim().split('\n').pop() ?? '';
      if (code !== 0 || !line.startsWith('{')) {
        reject(new Error(`The validation child exited ${signal ?? code}: ${stderr.trim().slice(-2000)}`));
        return;
      }
      resolve(JSON.parse(line) as ChildResult);
    });
  });
}
