import type { BenchContext } from './lib/bench-context.js';
import { browserBundle, gzippedSize } from './lib/browser-bundle.js';
import { type BenchReport, ratio } from './lib/report.js';

const BUDGET_GZIP = 25 * 1024;
/** What an app already ships (it brings its own React), left out as the app's bundler would. */
const REACT = ['react', 'react-dom', 'react/jsx-runtime'];

/**
 * Issue 12: the FileManager's browser bundle without React (minified + gzip; @stowage/client is
 * in it, as an app ships both) against its budget, next to the client bundle alone built the
 * same way in the same run (the ratio is what the React UI adds to the uploads), the hooks alone
 * (an app with its own UI), the stylesheet, React itself for scale, and what the stack serves.
 */
export async function fileManagerBundleBench(ctx: BenchContext): Promise<BenchReport> {
  ctx.progress('file-manager-bundle: bundling with esbuild');
  const served = await fetch(`${ctx.stack.url}/assets/file-manager.js`);
  if (!served.ok) throw new Error(`/assets/file-manager.js answered ${served.status}`);
  const cases = [
    {
      label: '@stowage/client, every export',
      bytes: await browserBundle("export * from '@stowage/client';"),
    },
    {
      label: '<FileManager> (with the client), React outside',
      bytes: await browserBundle("export { FileManager } from '@stowage/file-manager';", { external: REACT }),
    },
    {
      label: '@stowage/file-manager, every export, React outside',
      bytes: await browserBundle("export * from '@stowage/file-manager';", { external: REACT }),
    },
    {
      label: 'useUploads + useFileList + useStowageClient only',
      bytes: await browserBundle(
        "export { useUploads, useFileList, useStowageClient } from '@stowage/file-manager';",
        { external: REACT },
      ),
    },
    {
      label: '@stowage/file-manager/styles.css',
      bytes: await browserBundle("@import '@stowage/file-manager/styles.css';", { loader: 'css' }),
    },
    { label: 'served /assets/file-manager.js', bytes: new Uint8Array(await served.arrayBuffer()) },
    {
      label: 'react + react-dom/client (for scale: the app ships it anyway)',
      bytes: await browserBundle("export { createRoot } from 'react-dom/client'; export * from 'react';"),
    },
  ].map((c) => ({ ...c, minified: c.bytes.length, gzip: gzippedSize(c.bytes) }));
  const [reference, component] = cases as [(typeof cases)[0], (typeof cases)[0]];
  const budgeted = new Set([1, 2]);
  return {
    tables: [
      {
        title: `browser bundles (esbuild, ESM, minified, es2022; gzip level 9); FileManager budget ${BUDGET_GZIP} B gzip without React`,
        columns: ['bundle', 'minified B', 'gzip B', 'gzip vs reference', 'within budget'],
        rows: cases.map((c, i) => [
          i === 0 ? `${c.label} (reference)` : c.label,
          String(c.minified),
          String(c.gzip),
          i === 0 ? '1.00x' : ratio(c.gzip / reference.gzip),
          budgeted.has(i) ? (c.gzip <= BUDGET_GZIP ? 'yes' : 'NO') : '',
        ]),
      },
    ],
    headlines: [
      {
        label: 'FileManager browser bundle without React, gzip',
        value: `${component.gzip} B (${component.minified} B minified; ${ratio(component.gzip / reference.gzip)} the client alone, ${reference.gzip} B)`,
        target: `< ${BUDGET_GZIP} B gzip`,
      },
    ],
    notes: [
      'Bundled from the package entries as an app bundler would, React left to the app; the FileManager rows include @stowage/client.',
      'The stylesheet is shipped separately (import "@stowage/file-manager/styles.css") and not in the JS figures.',
    ],
  };
}
