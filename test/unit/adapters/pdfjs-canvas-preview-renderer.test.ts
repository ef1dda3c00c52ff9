import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { imageDimensions } from '../../../shared/adapters/preview/image-dimensions.js';
import { createPdfjsCanvasPreviewRenderer } from '../../../shared/adapters/preview/pdfjs-canvas-preview-renderer.js';
import { PreviewFailedError } from '../../../shared/ports/preview-renderer.js';
import {
  corruptPdf,
  darkShare,
  decodeImage,
  encryptedPdf,
  type ImageFormat,
  pagesPdf,
  squareImage,
  zeroPagePdf,
} from '../../support/preview-samples.js';
import { minimalPdf } from '../../support/samples.js';

const renderer = createPdfjsCanvasPreviewRenderer();
const pdf = (bytes: Uint8Array | Readable, extra: { size?: number } = {}) =>
  renderer.render({ bytes, mimeType: 'application/pdf', width: 800, ...extra });

async function failure(work: Promise<unknown>): Promise<PreviewFailedError> {
  const error = await work.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PreviewFailedError);
  return error as PreviewFailedError;
}

describe('PDF first pages', () => {
  it('draws page 1 at 800 px wide, aspect kept, with the text dark on white', async () => {
    // Prepare: a 200x200 pt page with "Hello" in 24 pt Helvetica at (20, 100)
    // Act
    const out = await pdf(minimalPdf('Hello'));
    // Assess
    expect(out).toMatchObject({ width: 800, height: 800 });
    const png = await decodeImage(out.png);
    expect(png).toMatchObject({ width: 800, height: 800 });
    // The glyphs sit just above the middle, on the left; the rest of the page is paper.
    expect(darkShare(png, { x0: 0.05, y0: 0.3, x1: 0.6, y1: 0.5 })).toBeGreaterThan(0.05);
    expect(darkShare(png, { x0: 0, y0: 0.6, x1: 1, y1: 1 })).toBe(0);
    expect(darkShare(png)).toBeLessThan(0.2);
  });

  it('draws the first page of a many-page document, not another one', async () => {
    const out = await pdf(await pagesPdf(30));
    expect(out).toMatchObject({ width: 800, height: Math.round((792 / 612) * 800) });
    const png = await decodeImage(out.png);
    // Page 1 has its block on the left half; the others on the right half.
    expect(darkShare(png, { x0: 0.1, y0: 0.15, x1: 0.4, y1: 0.45 })).toBeGreaterThan(0.95);
    expect(darkShare(png, { x0: 0.6, y0: 0.15, x1: 0.9, y1: 0.45 })).toBe(0);
  });

  it('honours a rotated page: a portrait page turned 90 degrees is landscape', async () => {
    const out = await pdf(await pagesPdf(1, { rotate: 90 }));
    expect(out).toMatchObject({ width: 800, height: Math.round((612 / 792) * 800) });
    const png = await decodeImage(out.png);
    expect(darkShare(png)).toBeGreaterThan(0.1);
  });

  it('draws page 1 of a 2000-page document without reading the other pages', async () => {
    const bytes = await pagesPdf(2000);
    const started = performance.now();
    const out = await pdf(bytes);
    expect(out.width).toBe(800);
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it.each([
    ['encrypted', encryptedPdf()],
    ['corrupt', corruptPdf()],
    ['corrupt', new Uint8Array(0)],
    ['no-pages', zeroPagePdf()],
  ])('refuses a %s document with that reason', async (reason, bytes) => {
    expect((await failure(pdf(bytes))).reason).toBe(reason);
  });

  it('refuses a source above the cap before reading it, and stops reading one that grows past it', async () => {
    const small = createPdfjsCanvasPreviewRenderer({ maxSourceBytes: 1024 });
    let pulled = 0;
    const endless = new Readable({
      read() {
        pulled += 1;
        this.push(Buffer.alloc(256, 0x20));
      },
    });
    const grown = await failure(small.render({ bytes: endless, mimeType: 'application/pdf', width: 800 }));
    expect(grown.reason).toBe('too-large');
    expect(endless.destroyed).toBe(true);
    expect(pulled).toBeLessThan(10);

    const untouched = new Readable({ read() {} });
    const declared = await failure(
      small.render({ bytes: untouched, size: 5000, mimeType: 'application/pdf', width: 800 }),
    );
    expect(declared.reason).toBe('too-large');
    expect(untouched.destroyed).toBe(true);
  });

  it('gives up on a render that outlasts its timeout', async () => {
    const hasty = createPdfjsCanvasPreviewRenderer({ timeoutMs: 1 });
    const error = await failure(
      hasty.render({ bytes: await pagesPdf(3), mimeType: 'application/pdf', width: 800 }),
    );
    expect(error.reason).toBe('timeout');
  });
});

describe('image thumbnails', () => {
  it.each<[ImageFormat, string]>([
    ['png', 'image/png'],
    ['jpeg', 'image/jpeg'],
    ['gif', 'image/gif'],
    ['webp', 'image/webp'],
  ])('thumbnails %s at 800 px wide, aspect kept, the dark corner where it was', async (format, mimeType) => {
    const out = await renderer.render({ bytes: await squareImage(format, 1600, 1000), mimeType, width: 800 });
    expect(out).toMatchObject({ width: 800, height: 500 });
    const png = await decodeImage(out.png);
    expect(darkShare(png, { x0: 0.05, y0: 0.05, x1: 0.45, y1: 0.45 })).toBeGreaterThan(0.95);
    expect(darkShare(png, { x0: 0.55, y0: 0.55, x1: 0.95, y1: 0.95 })).toBe(0);
  });

  it('never enlarges a small image', async () => {
    const out = await renderer.render({
      bytes: await squareImage('png', 40, 30),
      mimeType: 'image/png',
      width: 800,
    });
    expect(out).toMatchObject({ width: 40, height: 30 });
  });

  it('refuses bytes that do not decode, and a header that announces too many pixels', async () => {
    // No image header at all (damaged images are drawn in a child process: see the isolated renderer).
    const garbage = Buffer.from('this is not an image at all, whatever its name says');
    expect(
      (await failure(renderer.render({ bytes: garbage, mimeType: 'image/png', width: 800 }))).reason,
    ).toBe('undecodable');
    // A PNG header claiming 100000 x 100000 pixels, and nothing behind it.
    const bomb = Buffer.from(await squareImage('png', 4, 4));
    bomb.writeUInt32BE(100_000, 16);
    bomb.writeUInt32BE(100_000, 20);
    expect((await failure(renderer.render({ bytes: bomb, mimeType: 'image/png', width: 800 }))).reason).toBe(
      'too-large',
    );
  });

  it('supports exactly PDFs and the four raster types', () => {
    for (const type of ['application/pdf', 'image/png', 'image/jpeg', 'image/gif', 'image/webp'])
      expect(renderer.supports(type)).toBe(true);
    for (const type of ['image/svg+xml', 'text/csv', 'text/html', 'application/zip'])
      expect(renderer.supports(type)).toBe(false);
  });
});

describe('imageDimensions', () => {
  it.each<ImageFormat>(['png', 'jpeg', 'gif', 'webp'])('reads a %s header', async (format) => {
    expect(imageDimensions(await squareImage(format, 321, 123))).toEqual({ width: 321, height: 123 });
  });

  it('answers null for anything else', () => {
    expect(imageDimensions(Buffer.from('%PDF-1.7'))).toBeNull();
    expect(imageDimensions(new Uint8Array(0))).toBeNull();
  });
});
