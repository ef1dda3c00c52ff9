import type { Readable } from 'node:stream';

/**
 * Draws a preview PNG of a file: the first page of a PDF, a thumbnail of an image. Adapters:
 * pdf.js on @napi-rs/canvas in the process (the default), Chromium for what only a browser draws.
 */
export interface PreviewRenderer {
  /** Whether this renderer draws files of this (normalised) type. */
  supports(mimeType: string): boolean;
  /**
   * Throws `PreviewFailedError` when the file cannot be drawn (encrypted, corrupt, no pages,
   * undecodable, too large, timed out, over the memory ceiling); anything else is an outage, not a verdict on the file.
   */
  render(input: PreviewRenderInput): Promise<RenderedPreview>;
  /** Releases what the renderer holds (child processes, a browser); a process that stops calls it. */
  close?(): void | Promise<void>;
}

export interface PreviewRenderInput {
  /** The whole file, or a stream of it; adapters read at most their source-size cap. */
  bytes: Uint8Array | Readable;
  /** The file's size when known: a source above the adapter's cap is refused without reading it. */
  size?: number;
  mimeType: string;
  /** The charset a text file was declared in (a WHATWG encoding name); absent means UTF-8. */
  charset?: string;
  /** Width of the PNG in pixels; the height keeps the aspect ratio. */
  width: number;
}

export interface RenderedPreview {
  png: Uint8Array;
  width: number;
  height: number;
}

/** Why a file has no preview; stable words, shown to clients as `details.reason`. */
export type PreviewFailureReason =
  | 'encrypted'
  | 'corrupt'
  | 'no-pages'
  | 'undecodable'
  | 'too-large'
  | 'timeout'
  /** Drawing it needed more memory than the renderer may use (a decompression bomb...). */
  | 'resource-limit'
  | 'unsupported';

/** The renderer's verdict that this file cannot be drawn; rendering it again gives the same answer. */
export class PreviewFailedError extends Error {
  override readonly name = 'PreviewFailedError';
  constructor(
    readonly reason: PreviewFailureReason,
    message?: string,
    options?: { cause?: unknown },
  ) {
    super(message ?? `The preview could not be rendered: ${reason}.`, options);
  }
}
