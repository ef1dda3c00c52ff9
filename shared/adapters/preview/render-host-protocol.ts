import type { PreviewFailureReason } from '../../ports/preview-renderer.js';
import type { PdfjsCanvasPreviewRendererOptions } from './pdfjs-canvas-preview-renderer.js';

/** The messages between `createIsolatedPreviewRenderer` and its child processes (`render-host`). */

export interface RenderRequest {
  id: number;
  bytes: Uint8Array;
  mimeType: string;
  width: number;
}

export type RenderReply =
  | { id: number; ok: true; png: Uint8Array; width: number; height: number }
  | { id: number; ok: false; reason: PreviewFailureReason; message: string }
  /** Not a verdict on the file: the host could not work (a library failed to load...). */
  | { id: number; ok: false; reason: null; message: string };

/** The host's renderer options, passed as JSON in its first argument. */
export type RenderHostOptions = Pick<
  PdfjsCanvasPreviewRendererOptions,
  'maxSourcePixels' | 'maxAspect' | 'pdfjsDistDir'
>;
