/**
 * `npm run build -w infra` (and `prepack`): writes infra/dist, the @stowage/cdk package.
 *
 * - dist/index.js: the constructs as one ES module. aws-cdk-lib and constructs stay imports
 *   (peer dependencies); the few shared/ and functions/ modules the constructs read (key roots,
 *   roles, the route table, the table definition) and zod are inlined, so nothing reaches
 *   outside the package.
 * - dist/**.d.ts: the declarations of infra/, checked to import nothing outside dist/.
 * - dist/assets/: every function's bundle and both layers, taken from one synthesis of the
 *   sources (so they are the bytes `npm run synth` deploys), with manifest.json; the installed
 *   constructs use them instead of bundling (infra/constructs/code-assets.ts).
 */
import { execFileSync } from 'node:child_process';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, Stack } from 'aws-cdk-lib';
import { build } from 'esbuild';
import { PACKED_NODE_MODULES, type PrebuiltManifest } from '../constructs/code-assets.js';
import { PREVIEW_BROWSER_LAYER } from '../constructs/preview-browser-layer.js';
import { PREVIEW_RENDERER_LAYER } from '../constructs/preview-renderer-layer.js';
import { StowageService } from '../constructs/stowage-service.js';

const INFRA = fileURLToPath(new URL('../', import.meta.url));
const REPO_ROOT = path.resolve(INFRA, '..');
const DIST = path.join(INFRA, 'dist');

/** Bytes under a path (files only; a layer has no links once packed). */
function sizeOf(target: string): number {
  const stat = statSync(target);
  if (!stat.isDirectory()) return stat.size;
  return readdirSync(target).reduce((sum, name) => sum + sizeOf(path.join(target, name)), 0);
}

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

async function bundleConstructs(): Promise<void> {
  const result = await build({
    entryPoints: [path.join(INFRA, 'index.ts')],
    outfile: path.join(DIST, 'index.js'),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // The app's own CDK: one copy of aws-cdk-lib per app, or constructs fail `instanceof`.
    external: ['aws-cdk-lib', 'constructs'],
    metafile: true,
    logLevel: 'warning',
  });
  const [output] = Object.values(result.metafile.outputs);
  if (!output) throw new Error('esbuild wrote no dist/index.js');
  const foreign = Object.keys(output.inputs).filter(
    (input) => input.startsWith('node_modules/') && !input.startsWith('node_modules/zod/'),
  );
  // The constructs read constants and the route table only: a service module or an SDK client
  // in here means a construct imported a handler (see malware-protection.ts).
  if (foreign.length > 0) throw new Error(`dist/index.js pulled in ${foreign.slice(0, 5).join(', ')}`);
  console.log(`dist/index.js ${output.bytes.toLocaleString('en')} B`);
}

/** What a declaration file imports, as written (`./constructs/stowage-service.js`, `aws-cdk-lib`). */
const importsOf = (source: string) =>
  [...source.matchAll(/(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)].map((m) => m[1] ?? '');

/** The packages a consumer has: the peers. */
const PEER = /^(aws-cdk-lib|constructs)(\/|$)/;

function emitDeclarations(): void {
  const out = mkdtempSync(path.join(tmpdir(), 'stowage-cdk-dts-'));
  try {
    execFileSync(
      process.execPath,
      [
        path.join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'),
        '-p',
        path.join(INFRA, 'tsconfig.build.json'),
        '--outDir',
        out,
      ],
      { stdio: 'inherit' },
    );
    // Copy what dist/index.d.ts reaches, file by file, refusing anything outside infra/.
    const pending = ['index.d.ts'];
    const copied = new Set<string>();
    for (let file = pending.pop(); file !== undefined; file = pending.pop()) {
      if (copied.has(file)) continue;
      if (file.startsWith('..')) throw new Error(`the declarations reach outside the package: ${file}`);
      copied.add(file);
      const source = readFileSync(path.join(out, 'infra', file), 'utf8');
      mkdirSync(path.dirname(path.join(DIST, file)), { recursive: true });
      writeFileSync(path.join(DIST, file), source);
      for (const spec of importsOf(source)) {
        if (!spec.startsWith('.')) {
          if (!PEER.test(spec)) throw new Error(`${file} imports ${spec}, which a consumer does not have`);
          continue;
        }
        pending.push(path.normalize(path.join(path.dirname(file), spec.replace(/\.js$/, '.d.ts'))));
      }
    }
    console.log(`dist/*.d.ts ${copied.size} files`);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** Synthesizes the service from the sources and keeps each function's bundle and both layers. */
function prebuildAssets(): void {
  const outdir = mkdtempSync(path.join(tmpdir(), 'stowage-cdk-assets-'));
  try {
    const app = new App({ outdir });
    const stack = new Stack(app, 'StowageAssets');
    const service = new StowageService(stack, 'Service');
    const template = app.synth().getStackByName(stack.stackName).template as {
      Resources: Record<string, { Type: string; Properties: Record<string, { S3Key?: string }> }>;
    };
    /** The asset's content hash: its S3 key is `<hash>.zip`, its folder `asset.<hash>`. */
    const hashOf = (s3Key: string | undefined) => {
      if (!s3Key) throw new Error('a Stowage function or layer has no code asset');
      return s3Key.replace(/\.zip$/, '');
    };
    const assetOf = (hash: string) => path.join(outdir, `asset.${hash}`);
    const assets = path.join(DIST, 'assets');
    const manifest: PrebuiltManifest = { functions: {}, layers: {} };
    for (const resource of Object.values(template.Resources)) {
      if (resource.Type !== 'AWS::Lambda::Function') continue;
      // Stowage's functions say `Stowage <Id> (<entry>)`; CDK's own helpers ship with aws-cdk-lib.
      const entry = /^Stowage \w+ \((.+)\)$/.exec(String(resource.Properties.Description ?? ''))?.[1];
      if (!entry) continue;
      const folder = `functions/${path.basename(path.dirname(entry))}`;
      const hash = hashOf(resource.Properties.Code?.S3Key);
      cpSync(assetOf(hash), path.join(assets, folder), { recursive: true });
      manifest.functions[entry] = { folder, hash };
    }
    const layers = {
      [PREVIEW_RENDERER_LAYER]: service.functions.previewRenderer.layer,
      [PREVIEW_BROWSER_LAYER]: service.functions.previewBrowser.layer,
    };
    for (const [name, layer] of Object.entries(layers)) {
      const logicalId = stack.getLogicalId(layer.node.defaultChild as never);
      const folder = `layers/${name}`;
      const to = path.join(assets, folder);
      const hash = hashOf(template.Resources[logicalId]?.Properties.Content?.S3Key);
      cpSync(assetOf(hash), to, { recursive: true });
      // npm packs no node_modules folder; the construct renames it back at synthesis.
      const packages = path.join(to, 'nodejs', PACKED_NODE_MODULES);
      rmSync(path.join(to, 'nodejs', 'node_modules', '.bin'), { recursive: true, force: true });
      renameSync(path.join(to, 'nodejs', 'node_modules'), packages);
      manifest.layers[name] = { folder, hash };
    }
    writeFileSync(path.join(assets, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    for (const { folder } of [...Object.values(manifest.functions), ...Object.values(manifest.layers)])
      console.log(`dist/assets/${folder} ${mib(sizeOf(path.join(assets, folder)))}`);
    console.log(`dist/assets ${mib(sizeOf(assets))}`);
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

rmSync(DIST, { recursive: true, force: true });
await bundleConstructs();
emitDeclarations();
prebuildAssets();
