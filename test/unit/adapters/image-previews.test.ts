import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { createIsolatedPreviewRenderer } from '../../../shared/adapters/preview/isolated-preview-renderer.js';
import { createPdfjsCanvasPreviewRenderer } from '../../../shared/adapters/preview/pdfjs-canvas-preview-renderer.js';
import { PreviewFailedError } from '../../../shared/ports/preview-renderer.js';
import { darkShare, decodeImage } from '../../support/preview-samples.js';

/**
 * Image previews on real files (test/fixtures/real, from file-type's fixtures) and on the cases
 * the corpus found: EXIF orientation, CMYK, 16-bit, TIFF, AVIF, BMP, and GIFs that killed the
 * canvas library.
 */
const renderer = createPdfjsCanvasPreviewRenderer();
const isolated = createIsolatedPreviewRenderer({
  logger: { debug() {}, info() {}, warn() {}, error() {} } as never,
});
afterAll(() => isolated.close());

const fixture = (name: string) =>
  new Uint8Array(readFileSync(join(import.meta.dirname, '../../fixtures/real', name)));

async function failure(work: Promise<unknown>): Promise<PreviewFailedError> {
  const error = await work.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PreviewFailedError);
  return error as PreviewFailedError;
}

/** A white image with a black top-left quarter, as `format`, through sharp. */
async function quarter(width: number, height: number) {
  const black = await sharp({
    create: { width: Math.ceil(width / 2), height: Math.ceil(height / 2), channels: 3, background: '#000' },
  })
    .png()
    .toBuffer();
  return sharp({ create: { width, height, channels: 3, background: '#fff' } }).composite([
    { input: black, left: 0, top: 0 },
  ]);
}

/** Mean absolute difference per channel (0..255) between two RGBA images of one size. */
function meanDifference(a: { pixels: Uint8ClampedArray }, b: { pixels: Uint8ClampedArray }) {
  let sum = 0;
  for (let i = 0; i < a.pixels.length; i++)
    sum += Math.abs((a.pixels[i] as number) - (b.pixels[i] as number));
  return sum / a.pixels.length;
}

describe('EXIF orientation, CMYK and 16-bit', () => {
  it('turns a JPEG as its EXIF orientation says (6: rotate 90° clockwise)', async () => {
    // Prepare: stored 200x100 with the dark quarter top-left; shown 100x200 with it top-right
    const jpeg = await (await quarter(200, 100)).jpeg().withMetadata({ orientation: 6 }).toBuffer();
    // Act
    const out = await renderer.render({ bytes: jpeg, mimeType: 'image/jpeg', width: 800 });
    // Assess
    expect(out).toMatchObject({ width: 100, height: 200 });
    const png = await decodeImage(out.png);
    expect(darkShare(png, { x0: 0.55, y0: 0.05, x1: 0.95, y1: 0.45 })).toBeGreaterThan(0.9);
    expect(darkShare(png, { x0: 0.05, y0: 0.05, x1: 0.45, y1: 0.45 })).toBe(0);
  });

  it('draws a CMYK JPEG in its colours, not inverted', async () => {
    const red = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#e01010' } })
      .toColourspace('cmyk')
      .jpeg()
      .toBuffer();
    expect((await sharp(red).metadata()).space).toBe('cmyk');
    const out = await decodeImage(
      (await renderer.render({ bytes: red, mimeType: 'image/jpeg', width: 800 })).png,
    );
    const [r, g, b] = out.pixels;
    expect(r).toBeGreaterThan(180);
    expect(g).toBeLessThan(80);
    expect(b).toBeLessThan(80);
  });

  it('draws a 16-bit PNG as the 8-bit image it shows', async () => {
    const deep = await (await quarter(120, 60)).toColourspace('rgb16').png().toBuffer();
    expect((await sharp(deep).metadata()).depth).toBe('ushort');
    const out = await renderer.render({ bytes: deep, mimeType: 'image/png', width: 800 });
    expect(out).toMatchObject({ width: 120, height: 60 });
    const png = await decodeImage(out.png);
    expect(darkShare(png, { x0: 0.05, y0: 0.05, x1: 0.45, y1: 0.45 })).toBeGreaterThan(0.95);
    expect(darkShare(png, { x0: 0.55, y0: 0.55, x1: 0.95, y1: 0.95 })).toBe(0);
  });
});

describe('real files', () => {
  it.each([
    ['fixture-bali.tif', 'image/tiff'],
    ['fixture-big-endian.tif', 'image/tiff'],
    ['fixture-little-endian.tif', 'image/tiff'],
    ['fixture-yuv420-8bit.avif', 'image/avif'],
    ['fixture.bmp', 'image/bmp'],
    ['fixture.ico', 'image/x-icon'],
    ['fixture.gif', 'image/gif'],
    ['fixture.jpg', 'image/jpeg'],
    ['fixture.png', 'image/png'],
    ['fixture.webp', 'image/webp'],
  ])('draws %s (%s) with the aspect its header gives', async (name, mimeType) => {
    const bytes = fixture(name);
    const out = await isolated.render({ bytes, mimeType, width: 300 });
    const decoded = await decodeImage(out.png);
    expect([decoded.width, decoded.height]).toEqual([out.width, out.height]);
    const meta = await sharp(bytes)
      .metadata()
      .catch(() => null);
    if (meta?.width && meta.height) expect(out.width / out.height).toBeCloseTo(meta.width / meta.height, 1);
  });

  it.each([
    ['fixture.jpg', 'image/jpeg'],
    ['fixture.png', 'image/png'],
    ['fixture.gif', 'image/gif'],
    ['fixture.webp', 'image/webp'],
  ])('draws %s like an independent decoder (Skia) does', async (name, mimeType) => {
    const bytes = fixture(name);
    const out = await renderer.render({ bytes, mimeType, width: 200 });
    // The reference: Skia decodes the original, sharp scales both to the preview's size.
    const reference = await decodeImage(bytes);
    const referencePng = await sharp(Buffer.from(reference.pixels), {
      raw: { width: reference.width, height: reference.height, channels: 4 },
    })
      .resize(out.width, out.height, { fit: 'fill' })
      .png()
      .toBuffer();
    expect(meanDifference(await decodeImage(out.png), await decodeImage(referencePng))).toBeLessThan(8);
  });

  it('draws a HEIC photo (HEVC, which libvips here cannot decode) at its 3:2 shape, not flat', async () => {
    const out = await isolated.render({
      bytes: fixture('fixture-mif1.heic'),
      mimeType: 'image/heic',
      width: 300,
    });
    const decoded = await decodeImage(out.png);
    expect([decoded.width, decoded.height]).toEqual([300, 200]);
    const { channels } = await sharp(Buffer.from(out.png)).stats();
    // A photo: every channel spreads (a blank or single-colour picture would not).
    for (const channel of channels.slice(0, 3)) expect(channel.stdev).toBeGreaterThan(10);
  });

  it('refuses a HEIC with more pixels than are decoded before decoding them', async () => {
    const small = createPdfjsCanvasPreviewRenderer({ maxSourcePixels: 1_000_000 });
    const error = await failure(
      small.render({ bytes: fixture('fixture-mif1.heic'), mimeType: 'image/heic', width: 300 }),
    );
    expect([error.reason, error.message]).toEqual([
      'too-large',
      'The image is 1440x960 pixels; at most 1000000 are decoded.',
    ]);
  });

  it('draws an animated PNG as its default image', async () => {
    const bytes = fixture('fixture.apng');
    const out = await renderer.render({ bytes, mimeType: 'image/apng', width: 300 });
    // Never enlarged: the 100x100 animation stays 100x100, and shows what a PNG decoder shows.
    expect([out.width, out.height]).toEqual([100, 100]);
    const reference = await decodeImage(bytes);
    expect(meanDifference(await decodeImage(out.png), reference)).toBeLessThan(8);
  });

  it('fails a PNG broken on purpose as undecodable', async () => {
    expect(
      (
        await failure(
          renderer.render({ bytes: fixture('fixture-corrupt.png'), mimeType: 'image/png', width: 300 }),
        )
      ).reason,
    ).toBe('undecodable');
  });
});

describe('GIFs that killed the canvas library', () => {
  // 44 bytes: a 0x1 logical screen, one 0x1 frame.
  const zeroWidth = Buffer.from(
    '474946383961000001008000000000000ffffff21f904010000000002c00000000000001000002024401003b',
    'hex',
  );
  // A 10x10 screen hiding a 65535x65535 frame.
  const hugeFrame = Buffer.from(
    '4749463839610a000a00800000000000ffffff2c00000000ffffffff00020244013b',
    'hex',
  );

  it.each([
    ['a zero width', zeroWidth, 'undecodable'],
    ['a frame of 65535 x 65535 behind a small screen', hugeFrame, 'too-large'],
  ])(
    'fails a GIF with %s before decoding it, in process and isolated, and the next render draws',
    async (_, gif, reason) => {
      expect((await failure(renderer.render({ bytes: gif, mimeType: 'image/gif', width: 800 }))).reason).toBe(
        reason,
      );
      expect((await failure(isolated.render({ bytes: gif, mimeType: 'image/gif', width: 800 }))).reason).toBe(
        reason,
      );
      const next = await isolated.render({
        bytes: fixture('fixture.gif'),
        mimeType: 'image/gif',
        width: 100,
      });
      expect(next.width).toBe(100);
    },
  );
});
