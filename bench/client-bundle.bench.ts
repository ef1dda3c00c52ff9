import type { BenchContext } from './lib/bench-context.js';
import { browserBundle, gzippedSize } from './lib/browser-bundle.js';
import { type BenchReport, ratio } from './lib/report.js';

const BUDGET_GZIP = 8 * 1024;

/**
 * The reference: the least an app can write to upload a file to Stowage with fetch alone
 * (initiate, one PUT, complete), no multipart, retry, resume, progress or typed errors.
 */
const FETCH_ONLY = `
export async function upload(baseUrl, token, bucketId, file) {
  const auth = { authorization: 'Bearer ' + token, 'content-type': 'application/json' };
  const call = async (method, path, body) => {
    const res = await fetch(baseUrl + path, { method, headers: auth, body: JSON.stringify(body) });
    if (!res.ok) throw new Error(method + ' ' + path + ': ' + res.status);
    return res.json();
  };
  const { file: pending, upload } = await call('POST', '/v1/buckets/' + bucketId + '/uploads', {
    filename: file.name, contentType: file.type || 'application/octet-stream', size: file.size,
  });
  const put = await fetch(upload.url, { method: 'PUT', headers: upload.headers, body: file });
  if (!put.ok) throw new Error('storage: ' + put.status);
  return call('POST', '/v1/files/' + pending.id + '/complete', {});
}
`;

/**
 * Issue 12: the client's browser bundle (minified + gzip) against its budget, next to a
 * hand-written fetch-only upload bundled the same way in the same run (the ratio is what the
 * client's multipart, retry, resume, progress and typed calls cost), and the bundle the local
 * stack serves at /assets/stowage-client.js.
 */
export async function clientBundleBench(ctx: BenchContext): Promise<BenchReport> {
  ctx.progress('client-bundle: bundling with esbuild');
  const served = await fetch(`${ctx.stack.url}/assets/stowage-client.js`);
  if (!served.ok) throw new Error(`/assets/stowage-client.js answered ${served.status}`);
  const cases = [
    { label: 'fetch-only upload, hand-written', bytes: await browserBundle(FETCH_ONLY) },
    {
      label: '@stowage/client, every export',
      bytes: await browserBundle("export * from '@stowage/client';"),
    },
    {
      label: '@stowage/client, createStowageClient only',
      bytes: await browserBundle("export { createStowageClient } from '@stowage/client';"),
    },
    {
      label: 'served /assets/stowage-client.js',
      bytes: new Uint8Array(await served.arrayBuffer()),
    },
  ].map((c) => ({ ...c, minified: c.bytes.length, gzip: gzippedSize(c.bytes) }));
  const [reference, whole] = cases as [(typeof cases)[0], (typeof cases)[0]];
  return {
    tables: [
      {
        title: `browser bundles (esbuild, ESM, minified, es2022; gzip level 9); budget ${BUDGET_GZIP} B gzip`,
        columns: ['bundle', 'minified B', 'gzip B', 'gzip vs reference', 'within budget'],
        rows: cases.map((c, i) => [
          i === 0 ? `${c.label} (reference)` : c.label,
          String(c.minified),
          String(c.gzip),
          i === 0 ? '1.00x' : ratio(c.gzip / reference.gzip),
          i === 0 ? '' : c.gzip <= BUDGET_GZIP ? 'yes' : 'NO',
        ]),
      },
    ],
    headlines: [
      {
        label: '@stowage/client browser bundle, gzip',
        value: `${whole.gzip} B (${whole.minified} B minified, ${ratio(whole.gzip / reference.gzip)} the fetch-only upload)`,
        target: `< ${BUDGET_GZIP} B gzip`,
      },
    ],
    notes: [
      'Bundled from the package entry (@stowage/client) as an app bundler would; no runtime dependency is pulled in, so this is all of it.',
    ],
  };
}
