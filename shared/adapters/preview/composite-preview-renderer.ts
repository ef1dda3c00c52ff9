import { PreviewFailedError, type PreviewRenderer } from '../../ports/preview-renderer.js';

/** Several renderers as one: each file goes to the first that draws its type. */
export function createCompositePreviewRenderer(renderers: readonly PreviewRenderer[]): PreviewRenderer {
  const pick = (mimeType: string) => renderers.find((r) => r.supports(mimeType));
  return {
    supports: (mimeType) => pick(mimeType) !== undefined,
    render(input) {
      const renderer = pick(input.mimeType);
      if (!renderer)
        return Promise.reject(new PreviewFailedError('unsupported', `No preview for ${input.mimeType}.`));
      return renderer.render(input);
    },
    async close() {
      await Promise.all(renderers.map((r) => r.close?.()));
    },
  };
}
