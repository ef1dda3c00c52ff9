import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { heavyPdf, pagesPdf } from '../test/support/preview-samples.js';
import { comparePictures, looksAlike, referenceRender } from '../test/support/reference-decoders.js';
import type { BenchContext } from './lib/bench-context.js';
import { PDFIUM, PDFJS, type PdfEngine, pdfiumEngine, pdfjsEngine, readPdf } from './lib/pdf-engines.js';
import { type BenchReport, type BenchTable, megabytes, ms, ratio } from './lib/report.js';
import { summarize } from './lib/stats.js';

const CORPUS = fileURLToPath(new URL('../../shared/corpus/', import.meta.url));
const CHILD = fileURLToPath(new URL('./lib/pdf-engine.child.ts', import.meta.url));
const PDFTOPPM = 'pdftoppm, poppler (spawned; the reference)';
const COLD_RUNS = 3;

interface EngineTally {
  alike: number;
  failed: string[];
  differ: string[];
  renderMs: number[];
}

/**
 * pdf.js against PDFium for previews (issue 14, item 4): on every PDF of ../shared/corpus that
 * poppler's pdftoppm draws, how many each engine draws alike (the corpus conformance test's
 * judge: a 64x64 grid within 0.08, same aspect), how fast (per file, in process, against
 * pdftoppm spawned), and each engine's cold start and peak memory in a fresh process.
 */
export async function pdfEnginesBench(ctx: BenchContext): Promise<BenchReport> {
  const notes: string[] = [];
  const tables: BenchTable[] = [];
  const work = await mkdtemp(join(tmpdir(), 'stowage-bench-pdf-'));
  try {
    const files = await pdfFiles(work, notes);
    const engines: PdfEngine[] = [pdfjsEngine(), await pdfiumEngine()];
    const tally = new Map<string, EngineTally>(
      engines.map((e) => [e.label, { alike: 0, failed: [], differ: [], renderMs: [] }]),
    );
    const referenceMs: number[] = [];
    let judged = 0;
    for (const [index, file] of files.entries()) {
      if (index % 40 === 0) ctx.progress(`pdf-engines: ${index}/${files.length} files`);
      const started = performance.now();
      const reference = await referenceRender(file.path, 'application/pdf');
      if (!reference) continue; // only what the reference draws is judged
      referenceMs.push(performance.now() - started);
      judged++;
      const bytes = await readPdf(file.path);
      for (const engine of engines) {
        const counts = tally.get(engine.label) as EngineTally;
        const began = performance.now();
        try {
          const png = await engine.render(bytes);
          counts.renderMs.push(performance.now() - began);
          if (looksAlike(await comparePictures(Buffer.from(png), reference))) counts.alike++;
          else counts.differ.push(file.name);
        } catch {
          counts.failed.push(file.name);
        }
      }
    }
    const ref = summarize(referenceMs);
    tables.push({
      title: `page 1 of ${judged} PDFs that pdftoppm draws, at ${800} px: drawn alike and time per file`,
      columns: ['engine', 'drawn alike', 'failed', 'p50 ms', 'p95 ms', 'total ms', 'p50 vs pdftoppm'],
      rows: [
        [PDFTOPPM, `${judged}/${judged}`, '0', ms(ref.median), ms(ref.p95), ms(sum(referenceMs)), '1.00x'],
        ...engines.map((engine) => {
          const t = tally.get(engine.label) as EngineTally;
          const s = summarize(t.renderMs);
          return [
            engine.label,
            `${t.alike}/${judged} (${((100 * t.alike) / Math.max(1, judged)).toFixed(1)} %)`,
            String(t.failed.length),
            ms(s.median),
            ms(s.p95),
            ms(sum(t.renderMs)),
            ratio(s.median / ref.median),
          ];
        }),
      ],
    });
    for (const engine of engines) {
      const t = tally.get(engine.label) as EngineTally;
      const listed = [...t.failed.map((n) => `${n} (failed)`), ...t.differ];
      if (listed.length > 0) notes.push(`${engine.label} differs on: ${listed.join(', ')}`);
    }

    const sample = join(work, 'cold-start.pdf');
    await writeFile(sample, await pagesPdf(3));
    const cold = await Promise.all(
      (['pdfjs', 'pdfium'] as const).map(async (name) => {
        const runs: ColdRun[] = [];
        for (let i = 0; i < COLD_RUNS; i++) runs.push(await coldRun(name, sample));
        return { name, runs };
      }),
    );
    const idle = await idleRss();
    const median = (values: number[]) => summarize(values).median;
    const rows = cold.map(({ name, runs }) => ({
      label: name === 'pdfjs' ? PDFJS : PDFIUM,
      firstPng: median(runs.map((r) => r.firstPngMs)),
      peak: median(runs.map((r) => r.peakRss)),
    }));
    const base = rows[0] as (typeof rows)[number];
    tables.push({
      title: `cold start in a fresh process (node --import tsx): load the engine and draw a 3-page PDF once, median of ${COLD_RUNS}`,
      columns: ['engine', 'first PNG ms', 'vs pdf.js', 'peak RSS', 'above idle Node', 'vs pdf.js'],
      rows: rows.map((r) => [
        r.label,
        ms(r.firstPng),
        ratio(r.firstPng / base.firstPng),
        megabytes(r.peak),
        megabytes(r.peak - idle),
        ratio((r.peak - idle) / (base.peak - idle)),
      ]),
    });
    const pdfjs = tally.get(PDFJS) as EngineTally;
    const pdfium = tally.get(PDFIUM) as EngineTally;
    return {
      tables,
      notes,
      headlines: [
        { label: 'PDFs drawn alike: pdf.js / PDFium', value: `${pdfjs.alike}/${pdfium.alike} of ${judged}` },
        {
          label: 'PDF render p50: PDFium / pdf.js',
          value: ratio(summarize(pdfium.renderMs).median / summarize(pdfjs.renderMs).median),
        },
        {
          label: 'PDF engine cold start: pdf.js, PDFium',
          value: `${ms(rows[0]?.firstPng ?? 0)} ms, ${ms(rows[1]?.firstPng ?? 0)} ms`,
          target: '≤ 400 ms',
        },
      ],
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

/** The corpus's PDFs when ../shared/corpus is there; otherwise two generated ones (and a note). */
async function pdfFiles(work: string, notes: string[]) {
  const manifest = join(CORPUS, 'MANIFEST.tsv');
  if (existsSync(manifest)) {
    return readFileSync(manifest, 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => line.split('\t')[0] as string)
      .filter((name) => name.endsWith('.pdf'))
      .map((name) => ({ name, path: join(CORPUS, name) }));
  }
  notes.push('../shared/corpus is absent: measured on two generated PDFs only.');
  const generated = [
    { name: 'pages-3.pdf', bytes: await pagesPdf(3) },
    { name: 'heavy.pdf', bytes: await heavyPdf() },
  ];
  return Promise.all(
    generated.map(async ({ name, bytes }) => {
      const path = join(work, name);
      await writeFile(path, bytes);
      return { name, path };
    }),
  );
}

interface ColdRun {
  readyMs: number;
  firstPngMs: number;
  peakRss: number;
}

function coldRun(engine: 'pdfjs' | 'pdfium', pdf: string): Promise<ColdRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, engine, pdf], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.once('error', reject);
    child.once('close', (code) =>
      code === 0 ? resolve(JSON.parse(out) as ColdRun) : reject(new Error(`${engine} child exited ${code}`)),
    );
  });
}

/** Peak RSS of a Node process with the same loader that does nothing. */
async function idleRss(): Promise<number> {
  const { stdout } = await promisify(execFile)(process.execPath, [
    '--import',
    'tsx',
    '-e',
    "console.log(Number(/VmHWM:\\s+(\\d+)/.exec(require('fs').readFileSync('/proc/self/status','utf8'))[1]) * 1024)",
  ]);
  return Number(stdout.trim());
}
