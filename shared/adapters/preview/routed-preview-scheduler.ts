import type { LambdaPreviewScheduler } from './lambda-preview-scheduler.js';

/**
 * Sends each file's render to the scheduler its type belongs to (in AWS: SVG, text and HTML to
 * the x86_64 function that carries Chromium, PDFs and images to the arm64 render function), the
 * first route whose `types` holds the file's type, else `fallback`.
 */
export function createRoutedPreviewScheduler(opts: {
  routes: { types: (mimeType: string) => boolean; scheduler: LambdaPreviewScheduler }[];
  fallback: LambdaPreviewScheduler;
}): LambdaPreviewScheduler {
  const pick = (mimeType?: string) =>
    (mimeType === undefined ? undefined : opts.routes.find((route) => route.types(mimeType))?.scheduler) ??
    opts.fallback;
  const all = [...opts.routes.map((route) => route.scheduler), opts.fallback];
  return {
    schedule(tenantId, fileId, mimeType) {
      pick(mimeType).schedule(tenantId, fileId, mimeType);
    },
    async settled() {
      await Promise.all(all.map((scheduler) => scheduler.settled()));
    },
  };
}
