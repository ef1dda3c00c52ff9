import { performance } from 'node:perf_hooks';
import { compose } from '../functions/lib/compose.js';
import { readConfig } from '../functions/lib/config.js';
import { createJsonLogger } from '../shared/adapters/json-logger.js';
import { SYSTEM_ACTOR } from '../shared/domain/model.js';

/**
 * Child of validation-memory.bench.ts: `validation-memory.child.ts <tenantId> <fileId>`.
 * Composes the app against the running stack (config from the environment, as a Lambda
 * does), samples RSS every 10 ms while idle and then while validating the pending file, and
 * prints one JSON line.
 */
const SAMPLE_MS = 10;
const IDLE_MS = 300;

async function main(): Promise<void> {
  const [tenantId, fileId] = process.argv.slice(2);
  if (!tenantId || !fileId) throw new Error('usage: validation-memory.child.ts <tenantId> <fileId>');
  const app = compose(readConfig(process.env), {
    logger: createJsonLogger({ service: 'stowage-bench-child' }, 'warn'),
  });

  // The full memoryUsage() at the highest RSS seen, to tell live JS memory from the rest.
  let peak = process.memoryUsage();
  const sample = () => {
    const usage = process.memoryUsage();
    if (usage.rss > peak.rss) peak = usage;
  };
  const sampler = setInterval(sample, SAMPLE_MS);
  const sampledOver = async <T>(work: () => Promise<T>) => {
    peak = process.memoryUsage();
    const started = performance.now();
    const result = await work();
    const elapsedMs = performance.now() - started;
    sample();
    return { peak, elapsedMs, result };
  };

  try {
    const idle = await sampledOver(() => new Promise((done) => setTimeout(done, IDLE_MS)));
    const file = await app.metadata.files.get(tenantId, fileId);
    if (!file) throw new Error(`No file ${fileId} in tenant ${tenantId}.`);
    const validation = await sampledOver(() => app.services.validation.validateArrival(file, SYSTEM_ACTOR));
    process.stdout.write(
      `${JSON.stringify({
        idleRss: idle.peak.rss,
        peakRss: validation.peak.rss,
        peakHeapUsed: validation.peak.heapUsed,
        peakArrayBuffers: validation.peak.arrayBuffers,
        validateMs: validation.elapsedMs,
        outcome: validation.result.kind,
        // The kernel's high-water mark for the whole process (KiB), which no sampling misses.
        maxRss: process.resourceUsage().maxRSS * 1024,
      })}\n`,
    );
  } finally {
    clearInterval(sampler);
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
