import { createReadStream } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BenchContext } from './lib/bench-context.js';
import { interleave, samplesOf } from './lib/interleave.js';
import { type BenchReport, type BenchTable, ratio, timingTable } from './lib/report.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const SIZES = [
  { label: '64 KiB', bytes: 64 * KiB, warmup: 20, iterations: 100 },
  { label: '100 MiB', bytes: 100 * MiB, warmup: 1, iterations: 5 },
];
const BENCH_PREFIX = 'bench-embedded-s3';

/**
 * The embedded S3 store's PUT and GET through presigned URLs, as a browser sends them (SigV4
 * check, body streamed to a temp file with MD5, rename, metadata; GET streamed back), against
 * the floor: the same bytes written to and read from a file on the same disk by this process.
 * Keys live outside `tenants/`, so no storage event reaches the service.
 */
export async function embeddedS3Bench(ctx: BenchContext): Promise<BenchReport> {
  const store = ctx.stack.app.deps.stores.defaultStore();
  const tables: BenchTable[] = [];
  const headlines: BenchReport['headlines'] = [];
  for (const size of SIZES) {
    ctx.progress(`embedded-s3: ${size.warmup} warm-up and ${size.iterations} rounds of ${size.label}`);
    const body = new Uint8Array(size.bytes).fill(7);
    const file = join(ctx.dataDir, `bench-${size.bytes}.bin`);
    const key = `${BENCH_PREFIX}/${size.bytes}`;
    // Upload URLs create once (If-None-Match: *): every timed PUT writes a key of its own.
    let puts = 0;
    const labels = {
      fsWrite: `fs write ${size.label}`,
      put: `presigned PUT ${size.label}`,
      fsRead: `fs read ${size.label}`,
      get: `presigned GET ${size.label}`,
    };
    const put = async () => {
      const upload = await store.presignPut({
        key: `${key}-${++puts}`,
        contentType: 'application/octet-stream',
        contentDisposition: 'attachment',
        contentLength: size.bytes,
        expiresInSeconds: 60,
      });
      const answer = await fetch(upload.url, { method: 'PUT', headers: upload.headers, body });
      await answer.arrayBuffer();
      if (answer.status !== 200) throw new Error(`PUT answered ${answer.status}`);
    };
    await put();
    await ctx.stack.app.deps.stores.defaultStore().copy({ sourceKey: `${key}-${puts}`, destinationKey: key });
    const get = async () => {
      const answer = await fetch(await store.presignGet({ key, expiresInSeconds: 60 }));
      const received = (await answer.arrayBuffer()).byteLength;
      if (received !== size.bytes) throw new Error(`GET answered ${received} bytes`);
    };
    const fsRead = async () => {
      let received = 0;
      for await (const chunk of createReadStream(file, { highWaterMark: 256 * KiB }))
        received += chunk.length;
      if (received !== size.bytes) throw new Error('short read');
    };
    const writes = await interleave(
      [
        { label: labels.fsWrite, run: () => writeFile(file, body) },
        { label: labels.put, run: put },
      ],
      size,
    );
    const reads = await interleave(
      [
        { label: labels.fsRead, run: fsRead },
        { label: labels.get, run: get },
      ],
      size,
    );
    const writeTable = timingTable(
      `PUT ${size.label}: presigned PUT with fetch vs writeFile of the same bytes`,
      { label: labels.fsWrite, samples: samplesOf(writes, labels.fsWrite) },
      [{ label: labels.put, samples: samplesOf(writes, labels.put) }],
    );
    const readTable = timingTable(
      `GET ${size.label}: presigned GET with fetch vs a read stream of the same bytes`,
      { label: labels.fsRead, samples: samplesOf(reads, labels.fsRead) },
      [{ label: labels.get, samples: samplesOf(reads, labels.get) }],
    );
    tables.push(writeTable.table, readTable.table);
    const median = (t: typeof writeTable, label: string) => t.summaries.get(label)?.median ?? Number.NaN;
    headlines.push(
      {
        label: `PUT ${size.label} / fs write`,
        value: ratio(median(writeTable, labels.put) / median(writeTable, labels.fsWrite)),
      },
      {
        label: `GET ${size.label} / fs read`,
        value: ratio(median(readTable, labels.get) / median(readTable, labels.fsRead)),
      },
    );
    await rm(file, { force: true });
    const written = await store.list({ prefix: `${key}` });
    await store.deleteMany(written.objects.map((o) => o.key));
    await store.delete(key);
  }
  return {
    tables,
    headlines,
    notes: [
      'PUT and GET include presigning (SigV4 in this process) and fetch; the fs reference is the floor the disk sets.',
    ],
  };
}
