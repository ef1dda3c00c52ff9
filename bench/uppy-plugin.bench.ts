import type { BenchContext } from './lib/bench-context.js';
import { browserBundle, gzippedSize } from './lib/browser-bundle.js';
import { type BenchReport, ratio } from './lib/report.js';

/** Minified ESM for browsers, as an app's bundler would make it, with the listed packages left out. */
async function bundledSize(entry: string, external: string[]): Promise<{ min: number; gzip: number }> {
  const code = await browserBundle(`export * from '${entry}'; export { default } from '${entry}';`, {
    external,
  });
  return { min: code.byteLength, gzip: gzippedSize(code) };
}

/**
 * Issue 12: what @stowage/uppy adds to an app that already has Uppy (`@uppy/core` left out of
 * every bundle), with and without @stowage/client (an app using the client elsewhere already
 * has it), against @uppy/aws-s3, the uploader an app would otherwise add to reach S3 directly.
 */
export async function uppyPluginBench(ctx: BenchContext): Promise<BenchReport> {
  ctx.progress('uppy-plugin: bundling @stowage/uppy and @uppy/aws-s3 with esbuild');
  const uppyCore = ['@uppy/core', '@uppy/core/*'];
  const reference = await bundledSize('@uppy/aws-s3', uppyCore);
  const withClient = await bundledSize('@stowage/uppy', uppyCore);
  const pluginOnly = await bundledSize('@stowage/uppy', [...uppyCore, '@stowage/client']);
  const row = (label: string, s: { min: number; gzip: number }, isReference = false) => [
    isReference ? `${label} (reference)` : label,
    String(s.min),
    String(s.gzip),
    isReference ? '1.00x' : ratio(s.gzip / reference.gzip),
  ];
  return {
    tables: [
      {
        title: 'Uppy uploader size, minified ESM for browsers, @uppy/core excluded',
        columns: ['bundle', 'min bytes', 'min+gzip bytes', 'gzip vs aws-s3'],
        rows: [
          row('@uppy/aws-s3 6.3.1', reference, true),
          row('@stowage/uppy with @stowage/client', withClient),
          row('@stowage/uppy alone (client shared with the app)', pluginOnly),
        ],
      },
    ],
    headlines: [
      {
        label: '@stowage/uppy min+gzip (with client / alone), @uppy/aws-s3',
        value: `${withClient.gzip} B / ${pluginOnly.gzip} B, ${reference.gzip} B (${ratio(withClient.gzip / reference.gzip)})`,
      },
    ],
    notes: [
      'gzip level 9; @stowage/client is bundled from its sources through the @stowage/source condition, as the repository builds it.',
    ],
  };
}
