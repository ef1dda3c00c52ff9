import { cpSync, existsSync, readFileSync, renameSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { locallyBundledCode } from './locally-bundled-code.js';

/**
 * Where the Lambda code comes from. In the repository the constructs bundle functions/ and
 * build the layers from layers/ at synthesis. Installed as @stowage/cdk, this module is part of
 * `dist/index.js`, beside `dist/assets/` (written by infra/build/build.ts from one synthesis
 * of the sources): the constructs then use those prebuilt bundles and layers, so a consumer
 * synthesizes without the Stowage sources, esbuild or a network.
 */
export interface PrebuiltManifest {
  /** Entry point (`functions/api/handler.ts`) → its bundle folder under assets/ (holds `index.mjs`). */
  readonly functions: Record<string, PrebuiltAsset>;
  /** Layer name (`preview-renderer`) → its folder under assets/ (holds `nodejs/`). */
  readonly layers: Record<string, PrebuiltAsset>;
}

export interface PrebuiltAsset {
  /** Relative to assets/. */
  readonly folder: string;
  /**
   * The content hash CDK gave the asset when it was built from the sources: used as the asset
   * hash, so a consumer's synthesis hashes none of the 150 MB again and an unchanged bundle or
   * layer publishes nothing new.
   */
  readonly hash: string;
}

/** npm never packs a folder named node_modules: a prebuilt layer ships its packages under this name. */
export const PACKED_NODE_MODULES = 'packages';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ASSETS_DIR = path.join(HERE, 'assets');
const MANIFEST = path.join(ASSETS_DIR, 'manifest.json');

/** The repository checkout the sources live in (only meaningful when not prebuilt). */
export const REPO_ROOT = path.resolve(HERE, '..', '..');

/** The prebuilt assets of the installed package; undefined when running from the sources. */
export const prebuilt: PrebuiltManifest | undefined = existsSync(MANIFEST)
  ? (JSON.parse(readFileSync(MANIFEST, 'utf8')) as PrebuiltManifest)
  : undefined;

/** Whether this build deploys an entry point: its handler file, or its prebuilt bundle. */
export function hasEntry(entry: string): boolean {
  return prebuilt ? entry in prebuilt.functions : existsSync(path.join(REPO_ROOT, entry));
}

/** The prebuilt bundle of an entry point, with the handler NodejsFunction would have named. */
export function prebuiltFunctionCode(entry: string): { code: lambda.Code; handler: string } {
  const asset = prebuilt?.functions[entry];
  if (!asset)
    throw new Error(
      `@stowage/cdk ships no bundle for ${entry}; this version deploys ${Object.keys(prebuilt?.functions ?? {}).join(', ')}.`,
    );
  return {
    code: lambda.Code.fromAsset(path.join(ASSETS_DIR, asset.folder), { assetHash: asset.hash }),
    handler: 'index.handler',
  };
}

/** A prebuilt layer, staged at synthesis with its packages back under `nodejs/node_modules`. */
export function prebuiltLayerCode(name: string): lambda.Code {
  const asset = prebuilt?.layers[name];
  if (!asset) throw new Error(`@stowage/cdk ships no ${name} layer.`);
  const source = path.join(ASSETS_DIR, asset.folder);
  return locallyBundledCode(
    source,
    (outputDir) => {
      cpSync(source, outputDir, { recursive: true });
      renameSync(
        path.join(outputDir, 'nodejs', PACKED_NODE_MODULES),
        path.join(outputDir, 'nodejs', 'node_modules'),
      );
    },
    asset.hash,
  );
}
