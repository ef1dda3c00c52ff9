import { performance } from 'node:perf_hooks';
import { pdfEngine, readPdf } from './pdf-engines.js';

/**
 * Child of pdf-engines.bench.ts: `pdf-engine.child.ts <pdfjs|pdfium> <file.pdf>`. Loads one engine
 * in a fresh process, draws the file once, and prints one JSON line: the time to a ready engine,
 * to the first PNG, and the peak resident set (VmHWM) of the process.
 */
const [name, path] = process.argv.slice(2);
if ((name !== 'pdfjs' && name !== 'pdfium') || !path)
  throw new Error('usage: pdf-engine.child.ts <pdfjs|pdfium> <file.pdf>');
const bytes = await readPdf(path);
const started = performance.now();
const engine = await pdfEngine(name);
const readyMs = performance.now() - started;
await engine.render(bytes);
const firstPngMs = performance.now() - started;
const { readFileSync } = await import('node:fs');
const peakRss = Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]) * 1024;
console.log(JSON.stringify({ readyMs, firstPngMs, peakRss }));
