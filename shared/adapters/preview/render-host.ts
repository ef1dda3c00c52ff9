import { PreviewFailedError } from '../../ports/preview-renderer.js';
import { createPdfjsCanvasPreviewRenderer, isOutOfMemory } from './pdfjs-canvas-preview-renderer.js';
import type { RenderHostOptions, RenderReply, RenderRequest } from './render-host-protocol.js';

/**
 * A child process that draws previews for `createIsolatedPreviewRenderer`: one request at a
 * time over IPC. A file that crashes the native canvas code takes this process down, not the
 * service; the parent restarts it and records the file as failed.
 */
if (!process.send) throw new Error('render-host runs as a child process with an IPC channel.');
const send = process.send.bind(process);
const options = JSON.parse(process.argv[2] ?? '{}') as RenderHostOptions;
// The parent enforces the time limit (it kills this process), so no timer runs here.
const renderer = createPdfjsCanvasPreviewRenderer({
  ...options,
  timeoutMs: 2 ** 31 - 1,
  maxSourceBytes: Number.MAX_SAFE_INTEGER,
  concurrency: 1,
});

process.on('message', async (request: RenderRequest) => {
  let reply: RenderReply;
  try {
    const out = await renderer.render({
      bytes: request.bytes,
      mimeType: request.mimeType,
      width: request.width,
    });
    reply = { id: request.id, ok: true, ...out };
  } catch (error) {
    reply =
      error instanceof PreviewFailedError
        ? { id: request.id, ok: false, reason: error.reason, message: error.message }
        : isOutOfMemory(error)
          ? {
              id: request.id,
              ok: false,
              reason: 'resource-limit',
              message: 'Drawing this file needs too much memory.',
            }
          : { id: request.id, ok: false, reason: null, message: String(error) };
  }
  send(reply);
});
// The parent went away (or closed the channel): nothing more will be asked.
process.on('disconnect', () => process.exit(0));
