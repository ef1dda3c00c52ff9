/**
 * The render function again, deployed on x86_64 with Chromium in its layer: SVG, plain text,
 * Markdown, CSV and HTML previews are sent here (`BROWSER_RENDER_FUNCTION_NAME`), because
 * @sparticuz/chromium's npm package carries an x86_64 Chromium only and the PDF and image
 * renderer runs on arm64. Same event, same use case; only the renderer it finds differs.
 */
export { handler } from '../render-preview/handler.js';
