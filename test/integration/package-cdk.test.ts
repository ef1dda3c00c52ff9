import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PackedWorkspace, packWorkspace, repoRoot, scratchProject } from '../support/package-tarball.js';

const run = promisify(execFile);

// Issue 12, item 4: another CDK app installs @stowage/cdk from its tarball and synthesizes a
// StowageService with its own user pool, with plain Node, no Stowage sources, no esbuild.

const POOL_ARN = 'arn:aws:cognito-idp:eu-west-1:111111111111:userpool/eu-west-1_Consumer1';

/** The consumer's app, as its author would write it (compiled by tsc against dist/*.d.ts). */
const APP_TS = `
import { App, Stack } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import { StowageService } from '@stowage/cdk';

const app = new App();
const stack = new Stack(app, 'ConsumerFiles', { env: { account: '111111111111', region: 'eu-west-1' } });
const userPool = cognito.UserPool.fromUserPoolArn(stack, 'TeamPool', '${POOL_ARN}');
const files = new StowageService(stack, 'Files', { existingUserPool: userPool, allowedOrigins: ['https://app.example.com'] });
console.log(files.node.path);
`;

const TSCONFIG = {
  compilerOptions: {
    target: 'ES2022',
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    strict: true,
    skipLibCheck: true,
    types: [],
    outDir: '.',
  },
  files: ['app.ts'],
};

type Resource = { Type: string; Properties: Record<string, any> };

let packed: PackedWorkspace;
let dir = '';
let template: { Resources: Record<string, Resource> } = { Resources: {} };
let assemblyDir = '';

beforeAll(async () => {
  const started = performance.now();
  packed = await packWorkspace('infra');
  const packedAt = performance.now();
  dir = await scratchProject({ tarballs: [packed], linkFromRepo: ['aws-cdk-lib', 'constructs'] });
  writeFileSync(path.join(dir, 'app.ts'), APP_TS);
  writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify(TSCONFIG));
  await run(process.execPath, [path.join(repoRoot, 'node_modules/typescript/bin/tsc'), '-p', dir], {
    cwd: dir,
  });
  assemblyDir = path.join(dir, 'cdk.out');
  // What `cdk synth` does: run the app with CDK_OUTDIR set. Plain node: no tsx, no source condition.
  const env = { PATH: process.env.PATH, HOME: dir, CDK_OUTDIR: assemblyDir };
  await run(process.execPath, ['app.js'], { cwd: dir, env, maxBuffer: 16 * 1024 * 1024 });
  // Printed, not asserted: where the test's time goes (the build's synthesis of the sources).
  console.log(
    `pack (build included) ${Math.round(packedAt - started)} ms, consumer tsc + synth ${Math.round(performance.now() - packedAt)} ms`,
  );
  template = JSON.parse(readFileSync(path.join(assemblyDir, 'ConsumerFiles.template.json'), 'utf8'));
}, 420_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  if (packed) rmSync(path.dirname(packed.tarball), { recursive: true, force: true });
});

const resources = (type: string) => Object.values(template.Resources).filter((r) => r.Type === type);
const stowageFunctions = () =>
  resources('AWS::Lambda::Function').filter((f) => String(f.Properties.Description).startsWith('Stowage '));
const assetDir = (s3Key: unknown) => path.join(assemblyDir, `asset.${String(s3Key).replace(/\.zip$/, '')}`);

describe('@stowage/cdk installed from its tarball', () => {
  it('packs the construct, its declarations and prebuilt assets, and nothing else', () => {
    const { files } = packed;
    console.log(
      `@stowage/cdk tarball: ${files.length} files, ${statSync(packed.tarball).size.toLocaleString('en')} B`,
    );
    expect(files).toContain('dist/index.js');
    expect(files).toContain('dist/index.d.ts');
    expect(files).toContain('dist/assets/manifest.json');
    expect(files).toContain('README.md');
    expect(files.filter((f) => !f.startsWith('dist/'))).toEqual(['README.md', 'package.json']);
    // No TypeScript sources (declarations only), here or in the layers' npm packages.
    expect(files.filter((f) => /\.[cm]?tsx?$/.test(f) && !/\.d\.[cm]?ts$/.test(f))).toEqual([]);
    // The Stowage-made files: the construct, its declarations, one bundle per function; no
    // tests and no other package's sources among them.
    const own = files.filter((f) => !f.startsWith('dist/assets/layers/'));
    expect(own.filter((f) => /(\.|\/)(test|spec)\.[cm]?[jt]sx?$|(^|\/)(test|__tests__)\//.test(f))).toEqual(
      [],
    );
    expect(own.filter((f) => !/^dist\/(index\.js|(constructs\/)?[\w-]+\.d\.ts|assets\/.+)$/.test(f))).toEqual(
      ['README.md', 'package.json'],
    );
    expect(
      own.filter(
        (f) =>
          f.startsWith('dist/assets/') &&
          !/^dist\/assets\/(manifest\.json|functions\/[\w-]+\/index\.mjs)$/.test(f),
      ),
    ).toEqual([]);
    // The layers hold their npm packages and the render host, nothing of the repository.
    const layerRoots = new Set(
      files.filter((f) => f.startsWith('dist/assets/layers/')).map((f) => f.split('/').slice(0, 6).join('/')),
    );
    expect([...layerRoots].sort()).toEqual([
      'dist/assets/layers/preview-browser/nodejs/packages',
      'dist/assets/layers/preview-renderer/nodejs/packages',
      'dist/assets/layers/preview-renderer/nodejs/render-host.mjs',
    ]);
  });

  it('carries nothing secret-shaped and no path of the machine it was packed on', () => {
    const installed = path.join(dir, 'node_modules', '@stowage', 'cdk');
    const names = packed.files.filter((f) =>
      /(^|\/)(\.env|\.npmrc|id_rsa|.*\.pem|.*\.key|credentials)$/.test(f),
    );
    expect(names).toEqual([]);
    const own = packed.files.filter((f) => !f.startsWith('dist/assets/layers/'));
    for (const file of own) {
      const text = readFileSync(path.join(installed, file), 'utf8');
      expect(text, file).not.toMatch(/\b(AKIA|ASIA)[A-Z0-9]{16}\b|-----BEGIN [A-Z ]*PRIVATE KEY-----/);
      expect(text.includes(repoRoot), file).toBe(false);
    }
  });

  it('declares aws-cdk-lib and constructs as peers and nothing to install besides', () => {
    const manifest = JSON.parse(
      readFileSync(path.join(dir, 'node_modules/@stowage/cdk/package.json'), 'utf8'),
    );
    expect(Object.keys(manifest.peerDependencies).sort()).toEqual(['aws-cdk-lib', 'constructs']);
    expect(manifest.dependencies).toBeUndefined();
    expect(manifest.scripts?.postinstall).toBeUndefined();
  });

  it('synthesizes every function from its prebuilt bundle, in code assets that resolve', () => {
    const functions = stowageFunctions();
    const manifest = JSON.parse(
      readFileSync(path.join(dir, 'node_modules/@stowage/cdk/dist/assets/manifest.json'), 'utf8'),
    );
    const entries = functions.map((f) => /\((.+)\)$/.exec(f.Properties.Description)![1]).sort();
    expect(entries).toEqual(Object.keys(manifest.functions).sort());
    expect(entries).toContain('functions/api/handler.ts');
    for (const fn of functions) {
      expect(fn.Properties.Handler).toBe('index.handler');
      expect(fn.Properties.Runtime).toBe('nodejs22.x');
      const bundle = path.join(assetDir(fn.Properties.Code.S3Key), 'index.mjs');
      expect(existsSync(bundle), fn.Properties.Description).toBe(true);
      expect(readFileSync(bundle, 'utf8')).toContain('handler');
    }
  });

  it('stages both layers with their packages back under nodejs/node_modules', () => {
    const layers = resources('AWS::Lambda::LayerVersion');
    const staged = layers.map((l) =>
      readdirSync(path.join(assetDir(l.Properties.Content.S3Key), 'nodejs')).sort(),
    );
    expect(staged).toHaveLength(2);
    expect(staged).toContainEqual(['node_modules', 'render-host.mjs']);
    expect(staged).toContainEqual(['node_modules']);
    const roots = layers.map((l) =>
      path.join(assetDir(l.Properties.Content.S3Key), 'nodejs', 'node_modules'),
    );
    expect(roots.some((r) => existsSync(path.join(r, 'sharp', 'package.json')))).toBe(true);
    expect(roots.some((r) => existsSync(path.join(r, '@sparticuz', 'chromium', 'package.json')))).toBe(true);
  });

  it('adds its app client to the imported user pool and trusts its tokens', () => {
    expect(resources('AWS::Cognito::UserPool')).toEqual([]);
    const [client] = resources('AWS::Cognito::UserPoolClient');
    expect(client?.Properties.UserPoolId).toBe('eu-west-1_Consumer1');
    const [authorizer] = resources('AWS::ApiGatewayV2::Authorizer');
    expect(JSON.stringify(authorizer?.Properties.JwtConfiguration.Issuer)).toContain('/eu-west-1_Consumer1');
  });

  it('leaves no Stowage source path in the template or the asset manifest', () => {
    const assets = readFileSync(path.join(assemblyDir, 'ConsumerFiles.assets.json'), 'utf8');
    for (const text of [JSON.stringify(template), assets]) {
      expect(text.includes(repoRoot)).toBe(false);
      expect(text).not.toMatch(/\/(shared|functions|layers)\/[\w-]+\/[\w.-]+\.ts/);
    }
  });
});
