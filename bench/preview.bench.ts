import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { createIsolatedPreviewRenderer } from '../shared/adapters/preview/isolated-preview-renderer.js';
import { createPdfjsCanvasPreviewRenderer } from '../shared/adapters/preview/pdfjs-canvas-preview-renderer.js';
import { previewVariant } from '../shared/domain/preview.js';
import type { PreviewRenderer } from '../shared/ports/preview-renderer.js';
import { pagesPdf } from '../test/support/preview-samples.js';
import type { BenchContext } from './lib/bench-context.js';
import { createBenchTenant, expectStatus } from './lib/bench-tenant.js';
import { interleave, samplesOf } from './lib/interleave.js';
import { forkRenderHost, idleNodePeakRss } from './lib/render-host-child.js';
import { type BenchReport, type BenchTable, megabytes, ratio, timingTable } from './lib/report.js';
import { sendUpload } from './lib/send-upload.js';
import { summarize } from './lib/stats.js';

const WARMUP = 3;
const ITERATIONS = 20;
const COLD = 5;
const GET_WARMUP = 50;
const GET_ITERATIONS = 300;
const MAX_REAL_PDFS = 2;

const IN_PROCESS = 'pdf.js + canvas, in process';
const ISOLATED = 'pdf.js + canvas, isolated child';
const PDFTOPPM = 'pdftoppm -r 72 -f 1 -l 1 -png (spawned)';
const CACHED = 'GET /v1/files/{id}/preview, cached (API handler in process)';
const PRESIGN = 'presignGet of the same PNG key';

interface Sample {
  label: string;
  path: string;
  bytes: Uint8Array;
}

/**
 * Previews against poppler's `pdftoppm` on the same files: a warm first page, a cold start (first
 * render in a new process), the render child's peak memory, and a cached preview's answer time
 * against a plain presigned GET.
 */
export async function previewBench(ctx: BenchContext): Promise<BenchReport> {
  const { stack } = ctx;
  const { deps, logger } = stack.app;
  const width = deps.previews?.settings.width ?? 800;
  const notes: string[] = [];
  const tables: BenchTable[] = [];
  const dir = await mkdtemp(join(tmpdir(), 'stowage-bench-preview-'));
  const pdftoppm = await which('pdftoppm');
  if (!pdftoppm)
    notes.push(
      'pdftoppm is not installed, so its reference rows are skipped: `apt-get install -y poppler-utils` (for the benchmark only).',
    );
  const isolated = createIsolatedPreviewRenderer({ logger });
  try {
    const samples: Sample[] = [];
    const generated = async (label: string, bytes: Uint8Array) => {
      const path = join(dir, `${label.replace(/\W+/g, '-')}.pdf`);
      await writeFile(path, bytes);
      samples.push({ label, path, bytes });
    };
    await generated('generated, 1 page', await pagesPdf(1));
    await generated('generated, 40 pages', await pagesPdf(40));
    for (const path of (await realPdfs()).slice(0, MAX_REAL_PDFS)) {
      const bytes = new Uint8Array(await readFile(path));
      samples.push({ label: `${basename(path)} (${megabytes(bytes.byteLength)})`, path, bytes });
    }

    // 1. Warm first page.
    const inProcess = createPdfjsCanvasPreviewRenderer();
    const render = (renderer: PreviewRenderer, s: Sample) => async () => {
      const out = await renderer.render({ bytes: s.bytes, mimeType: 'application/pdf', width });
      if (out.png.byteLength === 0) throw new Error(`No PNG for ${s.label}.`);
    };
    const warmRatios: { label: string; value: number }[] = [];
    for (const s of samples) {
      ctx.progress(`preview: warm first page of ${s.label}, ${WARMUP} + ${ITERATIONS} rounds`);
      // pdftoppm is the reference when it is installed; otherwise the in-process renderer.
      const cases = [
        ...(pdftoppm ? [{ label: PDFTOPPM, run: () => runPdftoppm(pdftoppm, s.path) }] : []),
        { label: IN_PROCESS, run: render(inProcess, s) },
        { label: ISOLATED, run: render(isolated, s) },
      ];
      const times = await interleave(cases, { warmup: WARMUP, iterations: ITERATIONS });
      const [reference, ...others] = cases.map((c) => ({
        label: c.label,
        samples: samplesOf(times, c.label),
      }));
      const t = timingTable(
        `warm first page, ${s.label}: ${ITERATIONS} renders per case, interleaved`,
        reference!,
        others,
      );
      tables.push(t.table);
      if (pdftoppm) {
        const ref = t.summaries.get(PDFTOPPM)?.median ?? Number.NaN;
        const ours = t.summaries.get(ISOLATED)?.median ?? Number.NaN;
        warmRatios.push({ label: s.label, value: ours / ref });
      }
    }

    // 2. Cold start: a fresh isolated renderer, its first render.
    const one = samples[0] as Sample;
    ctx.progress(`preview: ${COLD} cold starts (fresh isolated renderer, first render)`);
    const cold: number[] = [];
    const coldRef: number[] = [];
    for (let i = 0; i < COLD; i++) {
      const fresh = createIsolatedPreviewRenderer({ logger });
      try {
        const started = performance.now();
        await render(fresh, one)();
        cold.push(performance.now() - started);
      } finally {
        fresh.close();
      }
      if (pdftoppm) {
        const started = performance.now();
        await runPdftoppm(pdftoppm, one.path);
        coldRef.push(performance.now() - started);
      }
    }
    const coldCase = { label: 'isolated renderer created fresh, first render', samples: cold };
    const coldTable = pdftoppm
      ? timingTable(
          `cold start, ${one.label}: ${COLD} new processes each`,
          { label: PDFTOPPM, samples: coldRef },
          [coldCase],
        )
      : timingTable(`cold start, ${one.label}: ${COLD} new processes`, coldCase, []);
    tables.push(coldTable.table);

    // 3. Peak memory of a render child.
    ctx.progress('preview: peak memory of a render host child');
    const host = forkRenderHost();
    const memory: { label: string; bytes: number }[] = [];
    try {
      const reply = await host.render(one.bytes, 'application/pdf', width);
      if (!reply.ok) throw new Error(`The render host failed: ${reply.message}`);
      memory.push({ label: `render host child, after ${one.label}`, bytes: await host.peakRss() });
      for (const s of samples) {
        const r = await host.render(s.bytes, 'application/pdf', width);
        if (!r.ok) throw new Error(`The render host failed on ${s.label}: ${r.message}`);
      }
      memory.push({
        label: `render host child, after all ${samples.length} files`,
        bytes: await host.peakRss(),
      });
    } finally {
      host.close();
    }
    memory.push({ label: 'idle node + tsx child (floor)', bytes: await idleNodePeakRss() });
    const time = await which('time');
    let pdftoppmPeak: { label: string; bytes: number } | undefined;
    if (pdftoppm && time) {
      let peak = 0;
      for (const s of samples) peak = Math.max(peak, await pdftoppmMaxRss(time, pdftoppm, s.path));
      pdftoppmPeak = { label: `${PDFTOPPM}, largest of the ${samples.length} files`, bytes: peak };
    } else if (pdftoppm) notes.push('/usr/bin/time is missing: no pdftoppm peak memory reference.');
    const memRef = pdftoppmPeak ?? (memory.at(-1) as { label: string; bytes: number });
    const memRows = pdftoppmPeak ? memory : memory.slice(0, -1);
    tables.push({
      title: 'peak memory (VmHWM of the child from /proc; pdftoppm from /usr/bin/time %M)',
      columns: ['case', 'peak RSS', 'ratio'],
      rows: [
        [`${memRef.label} (reference)`, megabytes(memRef.bytes), '1.00x'],
        ...memRows.map((m) => [m.label, megabytes(m.bytes), ratio(m.bytes / memRef.bytes)]),
      ],
    });

    // 4. A cached preview's answer against a plain presigned GET.
    ctx.progress('preview: uploading a 1-page PDF and rendering its preview once');
    const tenant = await createBenchTenant(stack, 'preview');
    const initiated = expectStatus(
      await tenant.invoke('POST', `/v1/buckets/${tenant.bucketId}/uploads`, {
        filename: 'preview.pdf',
        contentType: 'application/pdf',
        size: one.bytes.byteLength,
      }),
      201,
      'initiate',
    );
    const fileId: string = initiated.file.id;
    const file = await stack.app.metadata.files.get(tenant.tenantId, fileId);
    if (!file) throw new Error(`The initiated file ${fileId} has no record.`);
    await sendUpload({
      upload: initiated.upload,
      objectKey: file.objectKey,
      size: one.bytes.byteLength,
      bytes: {
        *range(start, end) {
          yield one.bytes.subarray(start, end);
        },
        sha256Hex: () => '',
      },
      store: deps.stores.defaultStore(),
    });
    await stack.eventsIdle();
    await stack.previewsIdle();
    const first = expectStatus(
      await tenant.invoke('GET', `/v1/files/${fileId}/preview`),
      200,
      'first preview',
    );
    const again = expectStatus(
      await tenant.invoke('GET', `/v1/files/${fileId}/preview`),
      200,
      'cached preview',
    );
    if (!again.cached) throw new Error(`The second preview was not cached: ${JSON.stringify(again)}`);
    const cache = deps.previews?.cache;
    if (!cache) throw new Error('The stack has no preview cache.');
    const active = await stack.app.metadata.files.get(tenant.tenantId, fileId);
    if (active?.status !== 'active') throw new Error(`File ${fileId} is ${active?.status}, not active.`);
    const entry = await stack.app.metadata.previews.get(
      tenant.tenantId,
      fileId,
      previewVariant(active, width),
    );
    if (!entry) throw new Error(`File ${fileId} has no cached preview entry.`);
    const key = entry.objectKey;
    const presign = await cache.presignGet({ key, expiresInSeconds: 300, responseContentType: 'image/png' });
    if (new URL(presign).pathname !== new URL(first.url).pathname)
      throw new Error(`The presigned key ${key} is not the preview's (${first.url}).`);
    ctx.progress(`preview: ${GET_WARMUP} warm-up and ${GET_ITERATIONS} measured cached GETs`);
    const gets = await interleave(
      [
        {
          label: PRESIGN,
          run: () => cache.presignGet({ key, expiresInSeconds: 300, responseContentType: 'image/png' }),
        },
        {
          label: CACHED,
          run: async () => {
            const a = await tenant.invoke('GET', `/v1/files/${fileId}/preview`);
            if (a.status !== 200 || !a.body.cached) throw new Error(`Cached preview answered ${a.status}.`);
          },
        },
      ],
      { warmup: GET_WARMUP, iterations: GET_ITERATIONS },
    );
    const getTable = timingTable(
      `cached preview answer, ${GET_ITERATIONS} calls per case, interleaved`,
      { label: PRESIGN, samples: samplesOf(gets, PRESIGN) },
      [{ label: CACHED, samples: samplesOf(gets, CACHED) }],
    );
    tables.push(getTable.table);

    notes.push(
      `our renderers draw ${width} px wide (PREVIEW_WIDTH); pdftoppm -r 72 draws a letter page 612 px wide.`,
      'pdftoppm writes its PNG to stdout, which is read and dropped; one process per render, as a CLI is used.',
    );
    const coldMedian = summarize(cold).median;
    return {
      tables,
      notes,
      headlines: [
        ...warmRatios.map((r) => ({
          label: `warm first page, isolated / pdftoppm, ${r.label}`,
          value: ratio(r.value),
          target: '<=1.5x',
        })),
        {
          label: 'cold start, first render in a new child (median)',
          value: `${coldMedian.toFixed(0)} ms${coldRef.length ? ` (${ratio(coldMedian / summarize(coldRef).median)} pdftoppm)` : ''}`,
        },
        { label: 'render child peak RSS', value: megabytes(memory[1]?.bytes ?? 0) },
        {
          label: 'cached preview GET / presignGet (median)',
          value: ratio(
            (getTable.summaries.get(CACHED)?.median ?? 0) / (getTable.summaries.get(PRESIGN)?.median ?? 1),
          ),
        },
      ],
    };
  } finally {
    isolated.close();
    await rm(dir, { recursive: true, force: true });
  }
}

async function which(command: string): Promise<string | null> {
  for (const dir of (process.env.PATH ?? '').split(':').concat('/usr/bin')) {
    const path = join(dir, command);
    try {
      if ((await stat(path)).isFile()) return path;
    } catch {}
  }
  return null;
}

/** Up to a few real PDFs shipped with the system's documentation, smallest first. */
async function realPdfs(): Promise<string[]> {
  try {
    const { stdout } = await promisify(execFile)('find', ['/usr/share/doc', '-name', '*.pdf', '-type', 'f']);
    const paths = stdout.split('\n').filter(Boolean);
    const sized = await Promise.all(paths.map(async (p) => ({ p, size: (await stat(p)).size })));
    return sized.sort((a, b) => a.size - b.size).map((x) => x.p);
  } catch {
    return [];
  }
}

/** One pdftoppm process rendering page 1 to a PNG on stdout. */
function runPdftoppm(pdftoppm: string, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(pdftoppm, ['-r', '72', '-f', '1', '-l', '1', '-png', path], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let bytes = 0;
    child.stdout.on('data', (chunk: Buffer) => {
      bytes += chunk.byteLength;
    });
    child.once('error', reject);
    child.once('close', (code) =>
      code === 0 && bytes > 0
        ? resolve()
        : reject(new Error(`pdftoppm ${path} exited ${code} (${bytes} B).`)),
    );
  });
}

/** pdftoppm's peak resident set, in bytes, from GNU time's `%M` (kilobytes); the PNG goes to stdout. */
async function pdftoppmMaxRss(time: string, pdftoppm: string, path: string): Promise<number> {
  const { stderr } = await promisify(execFile)(
    time,
    ['-f', '%M', pdftoppm, '-r', '72', '-f', '1', '-l', '1', '-png', path],
    { encoding: 'buffer', maxBuffer: 256 * 1024 * 1024 },
  );
  return Number(stderr.toString('utf8').trim().split('\n').at(-1)) * 1024;
}
