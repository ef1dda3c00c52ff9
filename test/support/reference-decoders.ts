import { execFile, spawnSync } from 'node:child_process';
import sharp from 'sharp';

/**
 * Decoders independent of the preview renderer, to judge what it draws: poppler's `pdftoppm`
 * for PDFs (the renderer uses pdf.js) and ImageMagick's `convert` for images (the renderer uses
 * libvips through sharp, and Skia for BMP and ICO). Debian's `poppler-utils` and `imagemagick`;
 * `.ci/run` installs them when they are missing.
 */
export function referenceDecodersMissing(): string | null {
  const missing: string[] = [];
  if (spawnSync('pdftoppm', ['-v'], { encoding: 'utf8' }).error) missing.push('pdftoppm (poppler-utils)');
  const convert = spawnSync('convert', ['-version'], { encoding: 'utf8' });
  if (convert.error || !/ImageMagick/.test(convert.stdout)) missing.push('convert (imagemagick)');
  return missing.length === 0
    ? null
    : `${missing.join(' and ')} not installed: apt-get install -y poppler-utils imagemagick`;
}

/** What the reference draws of page 1 or frame 1, as PNG bytes, or null when it cannot draw the file. */
export function referenceRender(path: string, mimeType: string): Promise<Buffer | null> {
  const [command, args] =
    mimeType === 'application/pdf'
      ? // The crop box, as viewers (and pdf.js) show a page; pdftoppm's default is the media box.
        [
          'pdftoppm',
          [
            '-png',
            '-cropbox',
            '-f',
            '1',
            '-l',
            '1',
            '-scale-to-x',
            '800',
            '-scale-to-y',
            '-1',
            '-singlefile',
            path,
          ],
        ]
      : [
          'convert',
          [
            `${path}[0]`,
            '-auto-orient',
            '-background',
            'white',
            '-alpha',
            'remove',
            '-resize',
            '512x512>',
            'png:-',
          ],
        ];
  return new Promise((resolve) => {
    execFile(
      command as string,
      args as string[],
      { encoding: 'buffer', timeout: 60_000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout) => resolve(error || stdout.length === 0 ? null : stdout),
    );
  });
}

export interface Comparison {
  /** Mean absolute difference of the two pictures on a 64x64 RGB grid, 0 (same) to 1. */
  difference: number;
  /** Width / height of each. */
  aspects: [number, number];
}

/**
 * How far two pictures are apart as a person would see them at thumbnail size: both put on
 * white, squeezed to the same 64x64 grid, then compared pixel by pixel. Small enough to ignore
 * anti-aliasing and font hinting, large enough to catch a wrong orientation, inverted colours,
 * a blank page or the wrong crop.
 */
export async function comparePictures(a: Buffer, b: Buffer): Promise<Comparison> {
  const grid = async (png: Buffer) => {
    const image = sharp(png, { limitInputPixels: false });
    const { width = 1, height = 1 } = await image.metadata();
    const raw = await image
      .flatten({ background: '#ffffff' })
      .removeAlpha()
      .toColourspace('srgb')
      .resize(64, 64, { fit: 'fill' })
      .raw()
      .toBuffer();
    return { raw, aspect: width / height };
  };
  const [x, y] = await Promise.all([grid(a), grid(b)]);
  let sum = 0;
  for (let i = 0; i < x.raw.length; i++) sum += Math.abs((x.raw[i] as number) - (y.raw[i] as number));
  return { difference: sum / (x.raw.length * 255), aspects: [x.aspect, y.aspect] };
}

/** Thumbnail-size pictures further apart than this (0..1) do not look alike. */
export const MAX_DIFFERENCE = 0.08;

/** Within 10 %, or both taller than the renderer's ribbon limit (4:1), where it crops. */
export const sameAspect = (a: number, b: number) => Math.abs(a / b - 1) <= 0.1 || (a <= 0.26 && b <= 0.26);

/** Whether a comparison says the two pictures look alike: close enough, and the same shape. */
export const looksAlike = ({ difference, aspects }: Comparison) =>
  difference <= MAX_DIFFERENCE && sameAspect(aspects[0], aspects[1]);
