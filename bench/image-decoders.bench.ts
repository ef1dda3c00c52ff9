import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createCanvas, loadImage } from '@napi-rs/canvas';
import sharp from 'sharp';
import type { BenchContext } from './lib/bench-context.js';
import { interleave, samplesOf } from './lib/interleave.js';
import { type BenchReport, type BenchTable, megabytes, ratio, timingTable } from './lib/report.js';

const WARMUP = 3;
const ITERATIONS = 15;
const WIDTH = 800;
const CANVAS = '@napi-rs/canvas (the old image path)';
const SHARP = 'sharp / libvips (the image path now)';

/** The old path: Skia decodes the whole image, draws it scaled, encodes a PNG. */
async function viaCanvas(bytes: Uint8Array) {
  const image = await loadImage(Buffer.from(bytes));
  const width = Math.min(WIDTH, image.width);
  const height = Math.max(1, Math.round((image.height * width) / image.width));
  const target = createCanvas(width, height);
  target.getContext('2d').drawImage(image, 0, 0, width, height);
  return target.encode('png');
}

/** The path now: libvips shrinks on load where the format allows, orients, converts to sRGB. */
const viaSharp = (bytes: Uint8Array) =>
  sharp(bytes, { failOn: 'error' })
    .rotate()
    .resize({ width: WIDTH, withoutEnlargement: true })
    .toColourspace('srgb')
    .png({ compressionLevel: 6 })
    .toBuffer();

/**
 * sharp against the canvas for raster previews (issue 11, item 3): speed on a large JPEG and
 * PNG, peak memory of one render in a fresh process, and whether EXIF orientation and CMYK
 * come out right.
 */
export async function imageDecodersBench(ctx: BenchContext): Promise<BenchReport> {
  const tables: BenchTable[] = [];
  const notes: string[] = [];
  const base = sharp({ create: { width: 4000, height: 3000, channels: 3, background: '#fff' } }).composite([
    {
      input: await sharp({ create: { width: 2000, height: 1500, channels: 3, background: '#000' } })
        .png()
        .toBuffer(),
      left: 0,
      top: 0,
    },
  ]);
  const samples = [
    { label: 'JPEG 4000x3000', bytes: new Uint8Array(await base.clone().jpeg({ quality: 90 }).toBuffer()) },
    { label: 'PNG 4000x3000', bytes: new Uint8Array(await base.clone().png().toBuffer()) },
  ];
  for (const sample of samples) {
    ctx.progress(`image decoders: ${sample.label}`);
    const timed = await interleave(
      [
        { label: CANVAS, run: () => viaCanvas(sample.bytes) },
        { label: SHARP, run: () => viaSharp(sample.bytes) },
      ],
      { warmup: WARMUP, iterations: ITERATIONS },
    );
    const { table } = timingTable(
      `${sample.label} to an ${WIDTH} px PNG, in process`,
      {
        label: CANVAS,
        samples: samplesOf(timed, CANVAS),
      },
      [{ label: SHARP, samples: samplesOf(timed, SHARP) }],
    );
    tables.push(table);
  }

  // Peak resident memory (VmHWM: getrusage's maxRSS survives exec, so it would show the parent's) of
  // one render of the JPEG, each library alone in a fresh Node process.
  const dir = await mkdtemp(join(tmpdir(), 'stowage-bench-decoders-'));
  try {
    const jpeg = join(dir, 'big.jpg');
    await writeFile(jpeg, samples[0]?.bytes as Uint8Array);
    const script = (body: string) =>
      `const bytes = require('fs').readFileSync(${JSON.stringify(jpeg)});(async () => {${body}; console.log(Number(/VmHWM:\\s+(\\d+)/.exec(require('fs').readFileSync('/proc/self/status', 'utf8'))[1]) * 1024)})()`;
    const run = async (body: string) =>
      Number(
        (
          await promisify(execFile)(process.execPath, ['-e', script(body)], {
            cwd: process.cwd(),
            env: { PATH: process.env.PATH },
          })
        ).stdout.trim(),
      );
    const idle = await run('');
    const canvasPeak = await run(
      "const c = require('@napi-rs/canvas'); const i = await c.loadImage(bytes); const t = c.createCanvas(800, 600); t.getContext('2d').drawImage(i, 0, 0, 800, 600); await t.encode('png')",
    );
    const sharpPeak = await run(
      "const s = require('sharp'); s.concurrency(1); s.cache(false); await s(bytes).rotate().resize({ width: 800 }).toColourspace('srgb').png().toBuffer()",
    );
    tables.push({
      title: 'peak resident memory of one render of the 4000x3000 JPEG (fresh process, idle Node subtracted)',
      columns: ['case', 'peak RSS', 'above idle Node', 'ratio'],
      rows: [
        [`${CANVAS} (reference)`, megabytes(canvasPeak), megabytes(canvasPeak - idle), '1.00x'],
        [
          SHARP,
          megabytes(sharpPeak),
          megabytes(sharpPeak - idle),
          ratio((sharpPeak - idle) / (canvasPeak - idle)),
        ],
      ],
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }

  // Correctness: an EXIF-rotated JPEG (stored 200x100, shown 100x200) and a red CMYK JPEG.
  const small = await sharp(await base.clone().png().toBuffer())
    .resize(200, 100)
    .toBuffer();
  const rotated = new Uint8Array(await sharp(small).jpeg().withMetadata({ orientation: 6 }).toBuffer());
  const cmyk = new Uint8Array(
    await sharp({ create: { width: 64, height: 64, channels: 3, background: '#e01010' } })
      .toColourspace('cmyk')
      .jpeg()
      .toBuffer(),
  );
  const shape = async (png: Buffer | Uint8Array) => {
    const meta = await sharp(png).metadata();
    return `${meta.width}x${meta.height}`;
  };
  const firstPixel = async (png: Buffer | Uint8Array) => {
    const { data } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    return `rgb(${data[0]}, ${data[1]}, ${data[2]})`;
  };
  tables.push({
    title: 'correctness (expected: EXIF 6 shown 100x200; CMYK red near rgb(224, 16, 16))',
    columns: ['case', 'EXIF orientation 6', 'CMYK JPEG'],
    rows: [
      [CANVAS, await shape(await viaCanvas(rotated)), await firstPixel(await viaCanvas(cmyk))],
      [SHARP, await shape(await viaSharp(rotated)), await firstPixel(await viaSharp(cmyk))],
    ],
  });
  const jpegTimes = tables[0]?.rows[1]?.[5] ?? '';
  notes.push(
    'sharp also decodes TIFF and AVIF (its prebuilt libheif has no HEVC decoder: HEIC is not drawn); BMP and ICO stay on the canvas, which libvips has no loader for.',
  );
  return {
    tables,
    headlines: [{ label: 'sharp vs canvas, 4000x3000 JPEG to 800 px (median ratio)', value: jpegTimes }],
    notes,
  };
}
