import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { removeTestOutdirs, synthBundles } from '../test/unit/infra/support/synth.js';
import type { BenchContext } from './lib/bench-context.js';
import { type BenchReport, timingTable } from './lib/report.js';

const ROUNDS = 7;

/** One fresh Node process: how long the import took inside it, and the whole process's wall time. */
function coldImport(file: string | null): { importMs: number; processMs: number } {
  const target = file ? JSON.stringify(pathToFileURL(file).href) : "'data:text/javascript,export default 1'";
  const script = `const t = performance.now(); await import(${target}); console.log(performance.now() - t);`;
  const started = performance.now();
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    env: { PATH: process.env.PATH, NODE_NO_WARNINGS: '1', AWS_REGION: 'eu-west-1' },
    encoding: 'utf8',
  });
  return { importMs: Number(out.trim()), processMs: performance.now() - started };
}

/**
 * Issue 3: each function's bundle as `cdk synth` builds it (esbuild, minified ESM), its size,
 * and its cold start: a fresh Node process importing it, as a cold Lambda would, against a fresh
 * Node process importing nothing (the reference: what Node itself costs).
 */
export async function bundlesBench(ctx: BenchContext): Promise<BenchReport> {
  ctx.progress('bundles: synthesizing with real bundling');
  const { bundles } = synthBundles();
  try {
    const bare = Array.from({ length: ROUNDS }, () => coldImport(null).processMs);
    const cases = [...bundles].map(([name, file]) => {
      const runs = Array.from({ length: ROUNDS }, () => coldImport(file));
      return { name, file, runs };
    });
    const { table } = timingTable(
      `cold start: a fresh Node ${process.version} process importing each bundle, ${ROUNDS} processes each`,
      { label: 'node, importing nothing', samples: bare },
      cases.map((c) => ({ label: `${c.name} (whole process)`, samples: c.runs.map((r) => r.processMs) })),
    );
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
    const sizes = {
      title: 'bundle sizes (minified ESM, AWS SDK included) and import time inside the process',
      columns: ['bundle', 'bytes', 'import ms (median)'],
      rows: cases.map((c) => [
        c.name,
        String(statSync(c.file).size),
        median(c.runs.map((r) => r.importMs)).toFixed(1),
      ]),
    };
    return {
      tables: [table, sizes],
      headlines: cases.map((c) => ({
        label: `${c.name}: bytes, import ms`,
        value: `${statSync(c.file).size} B, ${median(c.runs.map((r) => r.importMs)).toFixed(0)} ms`,
        target: c.name === 'api' ? '< 1,000,000 B' : undefined,
      })),
      notes: [
        'Bundles are built by CDK synthesis exactly as `npm run synth` builds them; the renderer layer is not imported here.',
      ],
    };
  } finally {
    removeTestOutdirs();
  }
}
