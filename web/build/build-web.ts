import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BuildOptions } from 'esbuild';

const webDir = dirname(dirname(fileURLToPath(import.meta.url)));

/** The browser bundles: name (as served under /assets/) → entry point, and what stays outside. */
const bundles: BuildOptions[] = [
  // The page at `/`: everything in, React too.
  { entryPoints: { demo: join(webDir, 'demo/main.tsx') } },
  // The libraries for apps: the app brings its own React.
  {
    entryPoints: {
      'file-manager': join(webDir, 'file-manager/index.ts'),
      'stowage-client': join(webDir, 'client/index.ts'),
      'file-manager-styles': join(webDir, 'file-manager/file-manager.css'),
    },
    external: ['react', 'react-dom', 'react/jsx-runtime'],
  },
];

/**
 * How every browser bundle is built (the served assets, and the benchmarks' app entry points):
 * ESM, minified, React in production mode, workspace packages from their sources.
 */
export const BROWSER_BUILD = {
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2022'],
  minify: true,
  jsx: 'automatic',
  conditions: ['@stowage/source'],
  define: { 'process.env.NODE_ENV': '"production"' },
  legalComments: 'none',
  logLevel: 'silent',
} satisfies BuildOptions;

export interface WebAsset {
  contentType: string;
  body: Uint8Array;
}

/**
 * Bundles the client, the FileManager and the demo page for browsers with esbuild: ESM,
 * minified, React in production mode. `outdir` writes them to disk (`npm run build:web`);
 * without it they stay in memory (the local stack serves them).
 */
export async function buildWebAssets(opts: { outdir?: string } = {}): Promise<Map<string, WebAsset>> {
  // esbuild is a devDependency: loaded only when a page is asked for.
  const { build } = await import('esbuild');
  const outdir = opts.outdir ?? join(webDir, 'dist');
  const results = await Promise.all(
    bundles.map((bundle) =>
      build({
        ...bundle,
        outdir,
        ...BROWSER_BUILD,
        write: opts.outdir !== undefined,
      }),
    ),
  );
  const assets = new Map<string, WebAsset>();
  for (const file of results.flatMap((r) => r.outputFiles ?? [])) {
    const name = relative(outdir, file.path);
    assets.set(name, {
      contentType: name.endsWith('.css') ? 'text/css; charset=utf-8' : 'text/javascript; charset=utf-8',
      body: file.contents,
    });
  }
  return assets;
}
