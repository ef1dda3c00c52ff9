import { performance } from 'node:perf_hooks';

export interface BenchCase {
  label: string;
  run: () => Promise<unknown>;
}

/**
 * Runs the cases one after another in turn (A, B, A, B, ...) so drift in the servers (JIT,
 * GC, a growing table) falls on every case alike; the warm-up rounds are thrown away.
 */
export async function interleave(
  cases: readonly BenchCase[],
  opts: { warmup: number; iterations: number },
): Promise<Map<string, number[]>> {
  for (let i = 0; i < opts.warmup; i++) for (const c of cases) await c.run();
  const samples = new Map<string, number[]>(cases.map((c) => [c.label, []]));
  for (let i = 0; i < opts.iterations; i++) {
    for (const c of cases) {
      const started = performance.now();
      await c.run();
      samples.get(c.label)?.push(performance.now() - started);
    }
  }
  return samples;
}

/** The samples of one case; a missing label is a bug in the benchmark. */
export function samplesOf(samples: Map<string, number[]>, label: string): number[] {
  const found = samples.get(label);
  if (!found) throw new Error(`No samples for '${label}'.`);
  return found;
}
