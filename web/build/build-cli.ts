import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildWebAssets } from './build-web.js';

/** `npm run build:web`: the browser bundles into web/dist/ (the local stack needs none of it). */
const outdir = join(dirname(dirname(fileURLToPath(import.meta.url))), 'dist');
const started = Date.now();
await buildWebAssets({ outdir });
process.stdout.write(`web bundles written to ${outdir} in ${Date.now() - started} ms\n`);
