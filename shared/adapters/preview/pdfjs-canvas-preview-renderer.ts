import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import {
  PreviewFailedError,
  type PreviewFailureReason,
  type PreviewRenderer,
  type RenderedPreview,
} from '../../ports/preview-renderer.js';
import { decodeHeic, HEIC_TYPES } from './heic-decoder.js';
import { imageDimensions } from './image-dimensions.js';
import { readSource } from './read-source.js';

export interface PdfjsCanvasPreviewRendererOptions {
  /** Larger sources are not read: `too-large`. @default 104857600 (100 MiB) */
  readonly maxSourceBytes?: number;
  /** A render that takes longer is abandoned: `timeout`. @default 20000 */
  readonly timeoutMs?: number;
  /** Images whose header announces more pixels are not decoded: `too-large`. @default 50000000 */
  readonly maxSourcePixels?: number;
  /** The tallest preview, as a multiple of its width (a ribbon page is scaled down to fit). @default 4 */
  readonly maxAspect?: number;
  /** Renders running at once in this process; more wait their turn. @default 2 */
  readonly concurrency?: number;
  /**
   * Folder of the pdfjs-dist package (its `standard_fonts`, `cmaps`, `wasm` and `iccs`).
   * @default resolved from node_modules
   */
  readonly pdfjsDistDir?: string;
}

/**
 * Raster formats sharp (libvips) decodes: EXIF orientation applied, CMYK and 16-bit images
 * turned into 8-bit sRGB. Its prebuilt libheif carries the AV1 decoder only: AVIF yes, HEIC
 * through `decodeHeic` (HEVC in WebAssembly), then sharp. An APNG is drawn as its default image.
 */
const SHARP_TYPES = new Set([
  'image/png',
  'image/apng',
  'image/jpeg',
  'image/gif',
  'image/webp',
  'image/tiff',
  'image/avif',
]);
/** Raster formats libvips has no loader for and Skia (the canvas) decodes. */
const CANVAS_TYPES = new Set(['image/bmp', 'image/x-icon', 'image/vnd.microsoft.icon']);
const PDF = 'application/pdf';

/** The types drawn here: PDFs (pdf.js on the canvas) and raster images (sharp, or the canvas). */
export const drawsPreviewOf = (mimeType: string) =>
  mimeType === PDF || SHARP_TYPES.has(mimeType) || CANVAS_TYPES.has(mimeType) || HEIC_TYPES.has(mimeType);

type PdfJs = typeof import('pdfjs-dist/legacy/build/pdf.mjs');
type NapiCanvas = typeof import('@napi-rs/canvas');
type Sharp = typeof import('sharp').default;

/**
 * The default renderer: pdf.js (the legacy build, for Node) draws page 1 of a PDF onto an
 * @napi-rs/canvas canvas in this process, and the same canvas thumbnails PNG, JPEG, GIF and
 * WebP images. Measured here at ~60-90 ms a warm first page, against ~200 ms for Chromium with
 * pdf.js in the page, so no browser is started for PDFs. pdf.js reads only what page 1 needs,
 * so its cost does not grow with the page count, and it is the judge of encrypted (a password
 * is needed), corrupt and page-less documents.
 *
 * The libraries are imported on the first render, so entry points that never render pay
 * nothing for them at cold start.
 *
 * Runs in the calling process: @napi-rs/canvas 0.1.x crashes the whole process (SIGSEGV) on
 * some truncated or corrupt images, so untrusted files are drawn through
 * `createIsolatedPreviewRenderer`, which runs this renderer in child processes.
 */
export function createPdfjsCanvasPreviewRenderer(
  opts: PdfjsCanvasPreviewRendererOptions = {},
): PreviewRenderer {
  const maxSourceBytes = opts.maxSourceBytes ?? 100 * 1024 * 1024;
  const timeoutMs = opts.timeoutMs ?? 20_000;
  const maxSourcePixels = opts.maxSourcePixels ?? 50_000_000;
  const maxAspect = opts.maxAspect ?? 4;
  const slots = semaphore(opts.concurrency ?? 2);
  let libraries: Promise<{ pdfjs: PdfJs; canvas: NapiCanvas; assets: PdfAssets }> | undefined;
  let sharpLibrary: Promise<Sharp> | undefined;
  const loadSharp = () => {
    sharpLibrary ??= import('sharp')
      .then((module) => {
        const sharp = module.default;
        // One render at a time per process: no thread pool or cache to hold memory between files.
        sharp.concurrency(1);
        sharp.cache(false);
        return sharp;
      })
      .catch((error) => {
        sharpLibrary = undefined;
        throw error;
      });
    return sharpLibrary;
  };
  const load = () => {
    libraries ??= (async () => {
      const [pdfjs, canvas] = await Promise.all([
        import('pdfjs-dist/legacy/build/pdf.mjs'),
        import('@napi-rs/canvas'),
      ]);
      return { pdfjs, canvas, assets: pdfAssets(opts.pdfjsDistDir) };
    })().catch((error) => {
      libraries = undefined; // a failed import is retried by the next render
      throw error;
    });
    return libraries;
  };

  /** The tallest allowed preview at this width. */
  const sizeFor = (naturalWidth: number, naturalHeight: number, width: number) => {
    const scale = Math.min(width / naturalWidth, (width * maxAspect) / naturalHeight);
    return {
      scale,
      width: Math.max(1, Math.round(naturalWidth * scale)),
      height: Math.max(1, Math.round(naturalHeight * scale)),
    };
  };

  async function renderPdf(bytes: Uint8Array, width: number, deadline: Deadline): Promise<RenderedPreview> {
    const { pdfjs, canvas, assets } = await load();
    const task = pdfjs.getDocument({
      data: bytes,
      ...assets,
      cMapPacked: true,
      // Never evaluate code found in a document, never reach for the network or system fonts.
      isEvalSupported: false,
      disableFontFace: true,
      useSystemFonts: false,
      // Images inside the page are capped too: a tiny PDF can hold a gigapixel image.
      maxImageSize: maxSourcePixels,
      verbosity: pdfjs.VerbosityLevel.ERRORS,
    });
    deadline.onExpiry(() => void task.destroy());
    try {
      const doc = await task.promise;
      if (doc.numPages < 1) throw new PreviewFailedError('no-pages', 'The PDF has no pages.');
      const page = await doc.getPage(1);
      const natural = page.getViewport({ scale: 1 });
      const size = sizeFor(natural.width, natural.height, width);
      const viewport = page.getViewport({ scale: size.scale });
      const target = canvas.createCanvas(size.width, size.height);
      await page.render({
        // pdf.js draws on any 2D context with the DOM's shape; @napi-rs/canvas provides one.
        canvas: target as unknown as HTMLCanvasElement,
        canvasContext: target.getContext('2d') as unknown as CanvasRenderingContext2D,
        viewport,
        background: '#ffffff',
      }).promise;
      deadline.check();
      const png = await target.encode('png');
      return { png: new Uint8Array(png.buffer, png.byteOffset, png.byteLength), ...size };
    } catch (error) {
      throw deadline.expired ? timedOut(timeoutMs) : pdfVerdict(error);
    } finally {
      await task.destroy().catch(() => undefined);
    }
  }

  /** Refuses, from the header alone, an image with no pixels or more than may be decoded. */
  function checkHeader(header: { width: number; height: number } | null, mimeType: string) {
    if (!header) {
      // sharp reads TIFF and AVIF headers itself (under the same pixel limit).
      if (
        SHARP_TYPES.has(mimeType) &&
        !['image/png', 'image/jpeg', 'image/gif', 'image/webp'].includes(mimeType)
      )
        return;
      throw new PreviewFailedError('undecodable', 'The image header cannot be read.');
    }
    if (header.width < 1 || header.height < 1)
      throw new PreviewFailedError(
        'undecodable',
        `The image declares a size of ${header.width}x${header.height}.`,
      );
    if (header.width * header.height > maxSourcePixels)
      throw new PreviewFailedError(
        'too-large',
        `The image is ${header.width}x${header.height} pixels; at most ${maxSourcePixels} are decoded.`,
      );
  }

  async function renderImage(
    bytes: Uint8Array,
    width: number,
    deadline: Deadline,
    mimeType: string,
  ): Promise<RenderedPreview> {
    if (HEIC_TYPES.has(mimeType)) return renderHeic(bytes, width, deadline);
    checkHeader(imageDimensions(bytes), mimeType);
    return SHARP_TYPES.has(mimeType)
      ? renderWithSharp(bytes, width, deadline)
      : renderWithCanvas(bytes, width, deadline);
  }

  async function renderWithSharp(
    bytes: Uint8Array,
    width: number,
    deadline: Deadline,
  ): Promise<RenderedPreview> {
    const sharp = await loadSharp();
    // Warnings (a truncated scan, a bad marker) still draw what decodes, as browsers do.
    const source = () =>
      sharp(bytes, { limitInputPixels: maxSourcePixels, failOn: 'error', animated: false });
    let meta: Awaited<ReturnType<ReturnType<Sharp>['metadata']>>;
    try {
      meta = await source().metadata();
    } catch (error) {
      throw sharpVerdict(error);
    }
    // EXIF orientations 5 to 8 swap the sides.
    const swapped = (meta.orientation ?? 1) >= 5;
    const naturalWidth = (swapped ? meta.height : meta.width) ?? 0;
    const naturalHeight = (swapped ? meta.width : meta.height) ?? 0;
    checkHeader({ width: naturalWidth, height: naturalHeight }, 'image/png');
    const size = sizeFor(naturalWidth, naturalHeight, Math.min(width, naturalWidth));
    return thumbnailPng(
      source()
        .rotate() // EXIF orientation
        .toColourspace('srgb'), // CMYK through its ICC profile, 16-bit down to 8
      size,
      deadline,
    );
  }

  async function renderHeic(bytes: Uint8Array, width: number, deadline: Deadline): Promise<RenderedPreview> {
    const [sharp, picture] = await Promise.all([loadSharp(), decodeHeic(bytes, maxSourcePixels)]);
    deadline.check();
    const size = sizeFor(picture.width, picture.height, Math.min(width, picture.width));
    const raw = { width: picture.width, height: picture.height, channels: 4 as const };
    return thumbnailPng(sharp(picture.rgba, { raw, limitInputPixels: maxSourcePixels }), size, deadline);
  }

  /** A sharp pipeline scaled to the preview's size and written as PNG. */
  async function thumbnailPng(
    image: ReturnType<Sharp>,
    size: { width: number; height: number },
    deadline: Deadline,
  ): Promise<RenderedPreview> {
    try {
      const { data, info } = await image
        .resize({ width: size.width, height: size.height, fit: 'fill' })
        .png({ compressionLevel: 6 })
        .toBuffer({ resolveWithObject: true });
      deadline.check();
      return {
        png: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
        width: info.width,
        height: info.height,
      };
    } catch (error) {
      throw sharpVerdict(error);
    }
  }

  async function renderWithCanvas(
    bytes: Uint8Array,
    width: number,
    deadline: Deadline,
  ): Promise<RenderedPreview> {
    const { canvas } = await load();
    let image: Awaited<ReturnType<NapiCanvas['loadImage']>>;
    try {
      image = await canvas.loadImage(bytes);
    } catch (error) {
      throw new PreviewFailedError('undecodable', 'The image cannot be decoded.', { cause: error });
    }
    if (image.width < 1 || image.height < 1)
      throw new PreviewFailedError('undecodable', 'The image has no pixels.');
    // A thumbnail never enlarges: a small image keeps its size.
    const size = sizeFor(image.width, image.height, Math.min(width, image.width));
    const target = canvas.createCanvas(size.width, size.height);
    const context = target.getContext('2d');
    context.imageSmoothingQuality = 'high';
    context.drawImage(image, 0, 0, size.width, size.height);
    deadline.check();
    const png = await target.encode('png');
    return { png: new Uint8Array(png.buffer, png.byteOffset, png.byteLength), ...size };
  }

  return {
    supports: drawsPreviewOf,

    async render(input) {
      if (!Number.isInteger(input.width) || input.width < 1)
        throw new RangeError(`Preview width must be a positive integer, got ${input.width}.`);
      if (!drawsPreviewOf(input.mimeType))
        throw new PreviewFailedError('unsupported', `No preview for ${input.mimeType}.`);
      const draw =
        input.mimeType === PDF
          ? renderPdf
          : (bytes: Uint8Array, width: number, deadline: Deadline) =>
              renderImage(bytes, width, deadline, input.mimeType);
      return slots.run(async () => {
        const bytes = await readSource(input.bytes, maxSourceBytes, input.size);
        const deadline = startDeadline(timeoutMs);
        try {
          return await Promise.race([draw(bytes, input.width, deadline), deadline.promise]);
        } finally {
          deadline.clear();
        }
      });
    },
  };
}

interface PdfAssets {
  standardFontDataUrl: string;
  cMapUrl: string;
  wasmUrl: string;
  iccUrl: string;
}

/** pdf.js in Node reads these folders from disk; without fonts it warns and draws substitutes. */
function pdfAssets(distDir?: string): PdfAssets {
  const dir = distDir ?? dirname(createRequire(import.meta.url).resolve('pdfjs-dist/package.json'));
  const folder = (name: string) => `${join(dir, name)}/`;
  return {
    standardFontDataUrl: folder('standard_fonts'),
    cMapUrl: folder('cmaps'),
    wasmUrl: folder('wasm'),
    iccUrl: folder('iccs'),
  };
}

/** What a libvips failure says about the file. */
function sharpVerdict(error: unknown): Error {
  if (error instanceof PreviewFailedError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (/pixel limit/i.test(message))
    return new PreviewFailedError('too-large', 'The image has more pixels than are decoded.', {
      cause: error,
    });
  if (isOutOfMemory(error))
    return new PreviewFailedError('resource-limit', 'Drawing the image needs more memory than allowed.', {
      cause: error,
    });
  return new PreviewFailedError('undecodable', 'The image cannot be decoded.', { cause: error });
}

/** What a pdf.js failure says about the file. */
function pdfVerdict(error: unknown): Error {
  if (error instanceof PreviewFailedError) return error;
  if (isOutOfMemory(error))
    return new PreviewFailedError('resource-limit', 'Drawing the PDF needs more memory than allowed.', {
      cause: error,
    });
  const name = error instanceof Error ? error.name : '';
  const reason: PreviewFailureReason = name === 'PasswordException' ? 'encrypted' : 'corrupt';
  const message =
    reason === 'encrypted' ? 'The PDF is encrypted and needs a password.' : 'The PDF cannot be read.';
  return new PreviewFailedError(reason, message, { cause: error });
}

/**
 * An allocation refused under the host's memory ceiling (its data segment is limited), as V8
 * words it for buffers and arrays; pdf.js passes such errors on with their message.
 */
export function isOutOfMemory(error: unknown): boolean {
  const message = error instanceof Error ? error.message : typeof error === 'string' ? error : '';
  return /allocation failed|out of memory|invalid (typed )?array length/i.test(message);
}

const timedOut = (timeoutMs: number) =>
  new PreviewFailedError('timeout', `The preview took longer than ${timeoutMs} ms.`);

interface Deadline {
  readonly promise: Promise<never>;
  readonly expired: boolean;
  /** Throws the timeout once the deadline has passed (between steps that cannot be interrupted). */
  check(): void;
  onExpiry(cancel: () => void): void;
  clear(): void;
}

/**
 * The hard limit of one render. pdf.js works in small asynchronous steps, so destroying its
 * loading task on expiry stops it at the next step; the race answers `timeout` at once either way.
 */
function startDeadline(timeoutMs: number): Deadline {
  let expired = false;
  const cancels: (() => void)[] = [];
  let fail: (error: Error) => void = () => undefined;
  const promise = new Promise<never>((_, reject) => {
    fail = reject;
  });
  promise.catch(() => undefined); // raced, and possibly never awaited after a win
  const timer = setTimeout(() => {
    expired = true;
    for (const cancel of cancels) cancel();
    fail(timedOut(timeoutMs));
  }, timeoutMs);
  return {
    promise,
    get expired() {
      return expired;
    },
    check() {
      if (expired) throw timedOut(timeoutMs);
    },
    onExpiry: (cancel) => void cancels.push(cancel),
    clear: () => clearTimeout(timer),
  };
}

/** At most `size` tasks at once; the others wait in order. */
function semaphore(size: number) {
  let running = 0;
  const waiting: (() => void)[] = [];
  return {
    async run<T>(task: () => Promise<T>): Promise<T> {
      if (running < size) running += 1;
      else await new Promise<void>((go) => waiting.push(go)); // a finishing task hands its slot over
      try {
        return await task();
      } finally {
        const next = waiting.shift();
        if (next) next();
        else running -= 1;
      }
    },
  };
}
