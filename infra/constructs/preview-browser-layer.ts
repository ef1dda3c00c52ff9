import { cpSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { prebuilt, prebuiltLayerCode, REPO_ROOT } from './code-assets.js';
import { locallyBundledCode } from './locally-bundled-code.js';

/** The layer's name in the package's prebuilt assets (code-assets.ts). */
export const PREVIEW_BROWSER_LAYER = 'preview-browser';

/** The npm project whose linux-x64 `node_modules` the layer ships (`npm run layer:preview-browser`). */
export const PREVIEW_BROWSER_LAYER_DIR = path.join(REPO_ROOT, 'layers', 'preview-browser');

/** What the Chromium renderer loads (through `require`, which finds /opt/nodejs/node_modules). */
const PACKAGES = ['@sparticuz/chromium', 'playwright-core'] as const;

const versionOf = (nodeModules: string, pkg: string): string | null => {
  const file = path.join(nodeModules, pkg, 'package.json');
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version : null;
};

/**
 * Writes the layer into `outputDir`: `nodejs/node_modules` with @sparticuz/chromium (its
 * brotli-packed Chromium, unpacked into /tmp on the first launch) and playwright-core, the
 * versions the tests ran. Offline: it copies what `npm install` fetched once.
 */
export function buildPreviewBrowserLayer(outputDir: string, layerDir = PREVIEW_BROWSER_LAYER_DIR): void {
  const from = path.join(layerDir, 'node_modules');
  for (const pkg of PACKAGES) {
    const shipping = versionOf(from, pkg);
    const tested = versionOf(path.join(REPO_ROOT, 'node_modules'), pkg);
    if (!shipping || shipping !== tested)
      throw new Error(
        `The preview browser layer needs ${pkg}@${tested} in ${from} (found ${shipping ?? 'none'}): ` +
          'run `npm run layer:preview-browser` once, after aligning layers/preview-browser/package.json with the root one.',
      );
  }
  const to = path.join(outputDir, 'nodejs', 'node_modules');
  mkdirSync(to, { recursive: true });
  cpSync(from, to, { recursive: true });
}

export interface PreviewBrowserLayerProps {
  /** @default the linux-x64 packages of layers/preview-browser (installed: the prebuilt layer) */
  readonly layerDir?: string;
}

/**
 * The Lambda layer of the browser render function: Chromium for Node 22 on x86_64, the only
 * architecture @sparticuz/chromium's npm package carries. Built locally at synthesis (no
 * Docker, no network); published again only when a package changes.
 */
export class PreviewBrowserLayer extends Construct {
  public readonly layer: lambda.LayerVersion;

  constructor(scope: Construct, id: string, props: PreviewBrowserLayerProps = {}) {
    super(scope, id);
    const layerDir = props.layerDir ?? PREVIEW_BROWSER_LAYER_DIR;
    const code =
      prebuilt && !props.layerDir
        ? prebuiltLayerCode(PREVIEW_BROWSER_LAYER)
        : locallyBundledCode(layerDir, (outputDir) => buildPreviewBrowserLayer(outputDir, layerDir));
    this.layer = new lambda.LayerVersion(this, 'Layer', {
      description: 'Stowage preview browser: @sparticuz/chromium and playwright-core (x86_64)',
      compatibleRuntimes: [lambda.Runtime.NODEJS_22_X],
      compatibleArchitectures: [lambda.Architecture.X86_64],
      code,
    });
  }
}
