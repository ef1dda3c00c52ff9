import { gzipSync } from 'node:zlib';
import { repoRoot } from '../../test/support/package-tarball.js';
import { BROWSER_BUILD } from '../../web/build/build-web.js';

/**
 * An app's entry point bundled for browsers as the web build bundles (`BROWSER_BUILD`).
 * `external`: what the app
 * ships anyway (React, @uppy/core), left out as its own bundler would.
 */
export async function browserBundle(
  contents: string,
  opts: { loader?: 'js' | 'css'; external?: string[] } = {},
): Promise<Uint8Array> {
  const { build } = await import('esbuild');
  const result = await build({
    ...BROWSER_BUILD,
    stdin: { contents, resolveDir: repoRoot, loader: opts.loader ?? 'js' },
    external: opts.external ?? [],
    write: false,
  });
  const [out] = result.outputFiles;
  if (!out) throw new Error('esbuild wrote nothing');
  return out.contents;
}

/** Bytes after gzip at level 9, as a CDN would serve them. */
export const gzippedSize = (bytes: Uint8Array) => gzipSync(bytes, { level: 9 }).length;
