import { cpSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { prebuilt, prebuiltLayerCode, REPO_ROOT } from './code-assets.js';
import { locallyBundledCode } from './locally-bundled-code.js';

/** The layer's name in the package's prebuilt assets (code-assets.ts). */
export const PREVIEW_RENDERER_LAYER = 'preview-renderer';

/** The npm project whose linux-arm64 `node_modules` the layer ships (`npm run layer:preview-renderer`). */
export const PREVIEW_RENDERER_LAYER_DIR = path.join(REPO_ROOT, 'layers', 'preview-renderer');

/** The render host once the layer is mounted under /opt: `PREVIEW_HOST_MODULE` of the render function. */
export const RENDER_HOST_MODULE = '/opt/nodejs/render-host.mjs';

/** What the render host imports at run time, each with the native package it needs on arm64. */
const PACKAGES = [
  'pdfjs-dist',
  '@napi-rs/canvas',
  '@napi-rs/canvas-linux-arm64-gnu',
  'sharp',
  '@img/sharp-linux-arm64',
  // HEIC (HEVC) in WebAssembly: no native part.
  'heic-decode',
  'libheif-js',
] as const;

/**
 * Parts of pdfjs-dist the Node renderer never loads (it imports `legacy/build/pdf.mjs`, which
 * loads `pdf.worker.mjs` beside it, and reads fonts, cmaps, wasm and ICC profiles): the browser
 * builds, the viewer, types, minified twins and source maps. 41 MB become about 8 MB.
 */
function shipped(relative: string): boolean {
  const [pkg, ...rest] = relative.split(path.sep);
  if (pkg !== 'pdfjs-dist' || rest.length === 0) return true;
  const inside = rest.join('/');
  if (/^(build|web|types|image_decoders|legacy\/web|legacy\/image_decoders)(\/|$)/.test(inside)) return false;
  return !/(\.map|\.min\.mjs|\.d\.m?ts|pdf\.sandbox\.mjs)$/.test(inside);
}

const versionOf = (nodeModules: string, pkg: string): string | null => {
  const file = path.join(nodeModules, pkg, 'package.json');
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version : null;
};

/**
 * Writes the layer into `outputDir`: `nodejs/render-host.mjs` (shared/adapters/preview/render-host.ts
 * bundled on its own) beside `nodejs/node_modules` with pdf.js and @napi-rs/canvas built for
 * linux-arm64. The host lives in the layer, not in the function, because it is an ES module
 * forked as a plain Node process: ES module resolution ignores NODE_PATH, so only a host sitting
 * above `/opt/nodejs/node_modules` finds the libraries. Offline: it copies what
 * `npm run layer:preview-renderer` (run by `npm install`) fetched once from the registry.
 */
export function buildPreviewRendererLayer(outputDir: string, layerDir = PREVIEW_RENDERER_LAYER_DIR): void {
  const from = path.join(layerDir, 'node_modules');
  const to = path.join(outputDir, 'nodejs', 'node_modules');
  for (const pkg of PACKAGES) {
    const shipping = versionOf(from, pkg);
    // The versions the tests ran (each native twin follows its package).
    const tested = versionOf(
      path.join(REPO_ROOT, 'node_modules'),
      pkg.startsWith('@napi-rs/canvas-') ? '@napi-rs/canvas' : pkg.startsWith('@img/sharp-') ? 'sharp' : pkg,
    );
    if (!shipping || shipping !== tested)
      throw new Error(
        `The preview renderer layer needs ${pkg}@${tested} for linux-arm64 in ${from} (found ` +
          `${shipping ?? 'none'}): run \`npm run layer:preview-renderer\` once (it downloads from the ` +
          'npm registry), after aligning layers/preview-renderer/package.json with the root one.',
      );
  }
  mkdirSync(to, { recursive: true });
  cpSync(from, to, {
    recursive: true,
    filter: (source) => shipped(path.relative(from, source)),
  });
  // Loaded here, not at the top: installed from the package the layer is prebuilt, and the
  // construct must load without esbuild (a development tool of this repository only).
  const { buildSync } = createRequire(import.meta.url)('esbuild') as typeof import('esbuild');
  buildSync({
    entryPoints: [path.join(REPO_ROOT, 'shared', 'adapters', 'preview', 'render-host.ts')],
    outfile: path.join(outputDir, 'nodejs', 'render-host.mjs'),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    minify: true,
    // Loaded from node_modules beside the host, on the first render.
    external: ['pdfjs-dist', '@napi-rs/canvas', 'sharp', 'heic-decode'],
    logLevel: 'warning',
  });
}

export interface PreviewRendererLayerProps {
  /** @default the linux-arm64 packages of layers/preview-renderer (installed: the prebuilt layer) */
  readonly layerDir?: string;
}

/**
 * The Lambda layer of the preview render function: the render host and its native libraries
 * for Node 22 on arm64. Built locally at synthesis (no Docker, no network); the asset hash is the
 * output's, so a layer version is published only when the host or a library changes.
 */
export class PreviewRendererLayer extends Construct {
  public readonly layer: lambda.LayerVersion;
  /** `PREVIEW_HOST_MODULE` of a function using the layer. */
  public readonly hostModule = RENDER_HOST_MODULE;

  constructor(scope: Construct, id: string, props: PreviewRendererLayerProps = {}) {
    super(scope, id);
    const layerDir = props.layerDir ?? PREVIEW_RENDERER_LAYER_DIR;
    const code =
      prebuilt && !props.layerDir
        ? prebuiltLayerCode(PREVIEW_RENDERER_LAYER)
        : locallyBundledCode(layerDir, (outputDir) => buildPreviewRendererLayer(outputDir, layerDir));
    this.layer = new lambda.LayerVersion(this, 'Layer', {
      description:
        'Stowage preview render host with pdf.js, @napi-rs/canvas, sharp and libheif (linux-arm64)',
      compatibleRuntimes: [lambda.Runtime.NODEJS_22_X],
      compatibleArchitectures: [lambda.Architecture.ARM_64],
      code,
    });
  }
}
