import { PreviewFailedError } from '../../ports/preview-renderer.js';

/** Decoded pixels of a HEIC image's primary picture: 8-bit RGBA, row by row. */
export interface DecodedHeic {
  width: number;
  height: number;
  rgba: Uint8ClampedArray;
}

interface HeicImage {
  width: number;
  height: number;
  decode(): Promise<{ width: number; height: number; data: Uint8ClampedArray }>;
}
type DecodeAll = (input: { buffer: Uint8Array }) => Promise<HeicImage[] & { dispose(): void }>;

/** HEIF brands whose pictures are HEVC coded: what libvips' prebuilt AV1-only libheif cannot read. */
export const HEIC_TYPES = new Set(['image/heic', 'image/heif', 'image/heic-sequence', 'image/heif-sequence']);

let library: Promise<DecodeAll> | undefined;
const load = () => {
  library ??= import('heic-decode')
    .then((module) => (module.default as { all: DecodeAll }).all)
    .catch((error) => {
      library = undefined;
      throw error;
    });
  return library;
};

/**
 * Decodes the primary picture of a HEIC file with libheif and libde265 compiled to WebAssembly
 * (`heic-decode` over `libheif-js`): the HEVC decoder sharp's prebuilt libvips leaves out. The
 * picture's size is read from the header first, so an image with more than `maxPixels` is
 * refused before any pixel is decoded; libheif applies the file's rotation and mirroring.
 */
export async function decodeHeic(bytes: Uint8Array, maxPixels: number): Promise<DecodedHeic> {
  const decodeAll = await load();
  let images: Awaited<ReturnType<DecodeAll>>;
  try {
    images = await decodeAll({ buffer: bytes });
  } catch (error) {
    throw new PreviewFailedError('undecodable', 'The HEIC image cannot be decoded.', { cause: error });
  }
  try {
    const primary = images[0];
    if (!primary || primary.width < 1 || primary.height < 1)
      throw new PreviewFailedError('undecodable', 'The HEIC file holds no picture.');
    if (primary.width * primary.height > maxPixels)
      throw new PreviewFailedError(
        'too-large',
        `The image is ${primary.width}x${primary.height} pixels; at most ${maxPixels} are decoded.`,
      );
    try {
      const { width, height, data } = await primary.decode();
      return { width, height, rgba: data };
    } catch (error) {
      throw new PreviewFailedError('undecodable', 'The HEIC image cannot be decoded.', { cause: error });
    }
  } finally {
    images.dispose();
  }
}
