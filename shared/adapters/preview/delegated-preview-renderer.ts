import { PreviewFailedError, type PreviewRenderer } from '../../ports/preview-renderer.js';

/**
 * The types another function draws (`PREVIEW_BROWSER=lambda`: the browser render function):
 * this process answers that they have previews, and the scheduler sends them there. It never
 * draws them itself; asked to, it fails the render as unsupported here, so a misrouted job is
 * recorded, not crashed.
 */
export function createDelegatedPreviewRenderer(opts: {
  supports: (mimeType: string) => boolean;
  drawnBy: string;
}): PreviewRenderer {
  return {
    supports: opts.supports,
    async render(input) {
      throw new PreviewFailedError('unsupported', `${input.mimeType} previews are drawn by ${opts.drawnBy}.`);
    },
  };
}
