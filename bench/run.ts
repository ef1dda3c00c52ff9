import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startLocalStack } from '../local/stack.js';
import { bigUploadBench } from './big-upload.bench.js';
import { bundlesBench } from './bundles.bench.js';
import { clientBundleBench } from './client-bundle.bench.js';
import { embeddedS3Bench } from './embedded-s3.bench.js';
import { fileManagerBundleBench } from './file-manager-bundle.bench.js';
import { imageDecodersBench } from './image-decoders.bench.js';
import { initiateUploadBench } from './initiate-upload.bench.js';
import type { BenchContext } from './lib/bench-context.js';
import { type BenchReport, renderTable } from './lib/report.js';
import { createStorageCallLog } from './lib/storage-call-log.js';
import { malwareScanBench } from './malware-scan.bench.js';
import { pdfEnginesBench } from './pdf-engines.bench.js';
import { previewBench } from './preview.bench.js';
import { storageCallsBench } from './storage-calls.bench.js';
import { uppyPluginBench } from './uppy-plugin.bench.js';
import { validationBench } from './validation.bench.js';
import { validationMemoryBench } from './validation-memory.bench.js';
import { webhooksBench } from './webhooks.bench.js';

/**
 * `npm run bench [-- --only name[,name]]`: every benchmark against one local stack. It measures
 * and prints, never asserts; the exit code is non-zero only when a benchmark crashed.
 */
const BENCHMARKS: { name: string; run: (ctx: BenchContext) => Promise<BenchReport> }[] = [
  { name: 'initiate-upload', run: initiateUploadBench },
  { name: 'storage-calls', run: storageCallsBench },
  { name: 'validation', run: validationBench },
  { name: 'validation-memory', run: validationMemoryBench },
  { name: 'preview', run: previewBench },
  { name: 'image-decoders', run: imageDecodersBench },
  { name: 'pdf-engines', run: pdfEnginesBench },
  { name: 'bundles', run: bundlesBench },
  { name: 'client-bundle', run: clientBundleBench },
  { name: 'file-manager-bundle', run: fileManagerBundleBench },
  { name: 'embedded-s3', run: embeddedS3Bench },
  { name: 'big-upload', run: bigUploadBench },
  { name: 'malware-scan', run: malwareScanBench },
  { name: 'webhooks', run: webhooksBench },
  { name: 'uppy-plugin', run: uppyPluginBench },
];

function selected(argv: readonly string[]) {
  const at = argv.indexOf('--only');
  const inline = argv.find((arg) => arg.startsWith('--only='));
  const raw = inline ? inline.slice('--only='.length) : at >= 0 ? argv[at + 1] : undefined;
  if (raw === undefined) return BENCHMARKS;
  const wanted = raw.split(',').filter(Boolean);
  // An exact name wins ("validation" alone); otherwise a part of a name selects ("initiate").
  const chosen = BENCHMARKS.filter((b) =>
    wanted.some((w) => b.name === w || (!BENCHMARKS.some((x) => x.name === w) && b.name.includes(w))),
  );
  if (chosen.length === 0)
    throw new Error(
      `--only ${raw} matches no benchmark; there are: ${BENCHMARKS.map((b) => b.name).join(', ')}.`,
    );
  return chosen;
}

async function main(): Promise<number> {
  const benchmarks = selected(process.argv.slice(2));
  const progress = (message: string) => process.stderr.write(`  .. ${message}\n`);
  const dataDir = await mkdtemp(join(tmpdir(), 'stowage-bench-'));
  const started = performance.now();
  progress('starting the local stack (embedded S3, DynamoDB Local in memory)');
  const storageCalls = createStorageCallLog();
  const stack = await startLocalStack({
    onStorageCall: storageCalls.observe,
    port: 0,
    dataDir,
    inMemoryDynamo: true,
    maintenanceIntervalMs: 0,
    env: { PATH: process.env.PATH, HOME: process.env.HOME },
  });
  const results: { name: string; seconds: number; report?: BenchReport; error?: unknown }[] = [];
  try {
    for (const bench of benchmarks) {
      const benchStarted = performance.now();
      console.log(`\n=== ${bench.name} ===`);
      try {
        const report = await bench.run({ stack, dataDir, progress, storageCalls });
        for (const table of report.tables) console.log(`\n${renderTable(table)}`);
        if (report.notes.length > 0) console.log(`\n${report.notes.map((n) => `  * ${n}`).join('\n')}`);
        results.push({ name: bench.name, seconds: (performance.now() - benchStarted) / 1000, report });
      } catch (error) {
        console.log(
          `\n  CRASHED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
        );
        results.push({ name: bench.name, seconds: (performance.now() - benchStarted) / 1000, error });
      }
    }
  } finally {
    progress('stopping the local stack');
    await stack.stop();
    await rm(dataDir, { recursive: true, force: true });
  }

  console.log('\n=== summary ===');
  for (const result of results) {
    console.log(`${result.name} (${result.seconds.toFixed(1)} s)${result.error ? ': CRASHED' : ''}`);
    for (const h of result.report?.headlines ?? [])
      console.log(`  ${h.label}: ${h.value}${h.target ? `  (target ${h.target})` : ''}`);
  }
  console.log(`total ${((performance.now() - started) / 1000).toFixed(1)} s, node ${process.version}`);
  return results.some((r) => r.error) ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    console.error(error);
    process.exitCode = 1;
  },
);
