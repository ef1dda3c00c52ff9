import { performance } from 'node:perf_hooks';
import { detectMimeType } from '../shared/domain/content-type-detection.js';
import { SYSTEM_ACTOR } from '../shared/domain/model.js';
import type { BenchContext } from './lib/bench-context.js';
import { createBenchTenant } from './lib/bench-tenant.js';
import { holdStorageEvents } from './lib/hold-storage-events.js';
import { interleave, samplesOf } from './lib/interleave.js';
import { createPdfBytes } from './lib/pdf-bytes.js';
import { pendingUpload } from './lib/pending-upload.js';
import { type BenchReport, ratio, timingTable } from './lib/report.js';
import { summarize } from './lib/stats.js';

const KiB = 1024;
const MiB = 1024 * 1024;
const SMALL = 1 * KiB;
const LARGE = 200 * MiB;
const WARMUP = 50;
const ITERATIONS = 300;
/** Each first-time validation needs its own upload (200 MiB each for the large one). */
const FIRST_TIME = 5;

const SMALL_LABEL = 'read path, 1 KiB object';
const LARGE_LABEL = 'read path, 200 MiB object';

/**
 * Validation reads a HEAD and the first bytes, so it should cost the same for 1 KiB and
 * 200 MiB. The read path is timed repeatedly; the whole `validateArrival` once per size (it
 * moves the file out of pending, so only its first call does the work).
 */
export async function validationBench(ctx: BenchContext): Promise<BenchReport> {
  const { stack } = ctx;
  const { deps } = stack.app;
  const sniffBytes = deps.settings.sniffBytes;
  const tenant = await createBenchTenant(stack, 'validation', { maxFileSize: 512 * MiB });
  const bytes = createPdfBytes();
  const events = holdStorageEvents(stack.app.services.validation);
  try {
    ctx.progress(
      `validation: uploading ${FIRST_TIME + 1} PDFs of 1 KiB and ${FIRST_TIME} of 200 MiB through the API`,
    );
    const upload = (size: number) => pendingUpload(ctx, tenant, { size, bytes, hold: events.hold });
    const warm = await upload(SMALL);
    const smalls = [];
    const larges = [];
    for (let i = 0; i < FIRST_TIME; i++) {
      smalls.push(await upload(SMALL));
      larges.push(await upload(LARGE));
    }
    const [small, large] = [smalls[0]!, larges[0]!];

    const store = deps.stores.defaultStore();
    const readPath = (key: string) => async () => {
      const head = await store.head(key);
      if (!head) throw new Error(`${key} is missing.`);
      const first = await store.readFirstBytes(key, sniffBytes);
      if ((await detectMimeType(first ?? new Uint8Array())) !== 'application/pdf')
        throw new Error(`${key} does not sniff as a PDF.`);
    };

    ctx.progress(`validation: ${WARMUP} warm-up and ${ITERATIONS} measured rounds of the read path`);
    const samples = await interleave(
      [
        { label: SMALL_LABEL, run: readPath(small.file.objectKey) },
        { label: LARGE_LABEL, run: readPath(large.file.objectKey) },
      ],
      { warmup: WARMUP, iterations: ITERATIONS },
    );
    const readTable = timingTable(
      `validation read path: HEAD + ranged GET of ${sniffBytes} B + detectMimeType, ${ITERATIONS} calls per size, interleaved`,
      { label: SMALL_LABEL, samples: samplesOf(samples, SMALL_LABEL) },
      [{ label: LARGE_LABEL, samples: samplesOf(samples, LARGE_LABEL) }],
    );

    ctx.progress(`validation: ${FIRST_TIME} first-time validateArrival calls per size, interleaved`);
    const validate = async (file: typeof small.file) => {
      const started = performance.now();
      const outcome = await stack.app.services.validation.validateArrival(file, SYSTEM_ACTOR);
      const elapsed = performance.now() - started;
      if (outcome.kind !== 'active') throw new Error(`validateArrival of ${file.id} ended ${outcome.kind}.`);
      return elapsed;
    };
    await validate(warm.file); // the activate transaction and audit write, warmed once
    const smallTimes: number[] = [];
    const largeTimes: number[] = [];
    for (let i = 0; i < FIRST_TIME; i++) {
      // A, B then B, A: neither size always goes first.
      if (i % 2 === 0) {
        smallTimes.push(await validate(smalls[i]!.file));
        largeTimes.push(await validate(larges[i]!.file));
      } else {
        largeTimes.push(await validate(larges[i]!.file));
        smallTimes.push(await validate(smalls[i]!.file));
      }
    }
    const first = timingTable(
      `first-time validateArrival (HEAD, bucket GetItem, ranged GET, sniff, activate transaction, audit PutItem), ${FIRST_TIME} files per size, interleaved`,
      { label: `validateArrival, 1 KiB (${small.method})`, samples: smallTimes },
      [{ label: `validateArrival, 200 MiB (${large.method})`, samples: largeTimes }],
    );
    const firstRatio = summarize(largeTimes).median / summarize(smallTimes).median;
    const readRatio =
      (readTable.summaries.get(LARGE_LABEL)?.median ?? 0) /
      (readTable.summaries.get(SMALL_LABEL)?.median ?? 1);

    return {
      tables: [readTable.table, first.table],
      headlines: [
        { label: 'read path 200 MiB / 1 KiB (median)', value: ratio(readRatio), target: '~1.0x' },
        {
          label: `first-time validateArrival 200 MiB / 1 KiB (median of ${FIRST_TIME})`,
          value: ratio(firstRatio),
        },
      ],
      notes: [
        `200 MiB above the ${deps.settings.multipartThreshold / MiB} MiB multipart threshold: initiated as MULTIPART, ${Math.ceil(LARGE / deps.settings.minPartSize)} parts PUT to their presigned URLs, completed on the store.`,
        'storage events for these keys are held back, so each validateArrival timed here is the first, with nothing racing it.',
      ],
    };
  } finally {
    events.restore();
  }
}
