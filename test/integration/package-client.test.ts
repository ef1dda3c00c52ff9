import { execFile } from 'node:child_process';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { mintDevToken } from '../../local/dev-token.js';
import { client, newTenant } from '../support/api.js';
import { launchBrowser } from '../support/browser.js';
import {
  installedManifest,
  type PackedWorkspace,
  packWorkspace,
  repoRoot,
  scratchProject,
} from '../support/package-tarball.js';

const run = promisify(execFile);

/** Every file under `dir`, as paths relative to it. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => relative(dir, join(e.parentPath, e.name)));
}

const SECRET_SHAPED = [
  /\b(AKIA|ASIA)[0-9A-Z]{16}\b/,
  /-----BEGIN [A-Z ]*PRIVATE KEY-----/,
  /aws_secret_access_key\s*=/i,
  /\bnpm_[A-Za-z0-9]{36}\b/,
];

/**
 * @stowage/client as an app gets it: packed as `npm publish` would (its prepack builds dist/),
 * unpacked into a scratch project outside the repository, then imported by plain `node` (no tsx,
 * no conditions) and used against the running local stack.
 */
describe('@stowage/client, installed from its tarball', () => {
  let packed: PackedWorkspace;
  let app: string;
  let pkgDir: string;

  beforeAll(async () => {
    packed = await packWorkspace('web/client');
    app = await scratchProject({ tarballs: [packed] });
    pkgDir = join(app, 'node_modules', '@stowage', 'client');
  }, 120_000);

  afterAll(async () => {
    if (app) await rm(app, { recursive: true, force: true });
    if (packed) await rm(packed.tarball, { force: true });
  });

  it('holds only dist/ (ESM and .d.ts), the README and package.json', async () => {
    // Assess: what npm put in, and what is really in the tarball.
    expect(packed).toMatchObject({ name: '@stowage/client', version: '0.1.0' });
    const unpacked = (await filesUnder(pkgDir)).sort();
    expect(unpacked).toEqual(packed.files);
    for (const path of unpacked) {
      expect(path === 'package.json' || path === 'README.md' || path.startsWith('dist/'), path).toBe(true);
      expect(path.endsWith('.js') || path.endsWith('.d.ts') || !path.startsWith('dist/'), path).toBe(true);
      expect(path, path).not.toMatch(/test|spec|\.map$|tsconfig|\.env|\.npmrc|\.pem$/);
    }
    for (const entry of ['dist/index.js', 'dist/index.d.ts', 'dist/api-types.d.ts'])
      expect(unpacked).toContain(entry);
  });

  it('imports nothing outside itself, carries nothing secret-shaped, and says where its types are', async () => {
    let imports = 0;
    for (const path of await filesUnder(pkgDir)) {
      const text = await readFile(join(pkgDir, path), 'utf8');
      for (const pattern of SECRET_SHAPED) expect(pattern.test(text), `${path} ~ ${pattern}`).toBe(false);
      // No sources of other packages: every import is a file of this package (no runtime dependency).
      if (!path.startsWith('dist/')) continue;
      for (const [, specifier] of text.matchAll(/(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)) {
        expect(specifier, `${path} imports ${specifier}`).toMatch(/^\.\/[\w-]+\.js$/);
        imports++;
      }
    }
    expect(imports).toBeGreaterThan(10);
    const manifest = await installedManifest(app, '@stowage/client');
    expect(manifest).toMatchObject({ type: 'module', sideEffects: false });
    expect(manifest.dependencies ?? {}).toEqual({});
    expect(manifest.exports).toMatchObject({
      '.': { types: './dist/index.d.ts', default: './dist/index.js' },
    });
  });

  it('type-checks in an app from its .d.ts alone', async () => {
    // Prepare: a strict TypeScript app that resolves the package as any app would.
    await writeFile(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          lib: ['ES2022', 'DOM'],
          types: [],
          strict: true,
          noEmit: true,
        },
        files: ['app.ts'],
      }),
    );
    await writeFile(
      join(app, 'app.ts'),
      [
        "import { createStowageClient, StowageApiError, type StowageFile } from '@stowage/client';",
        "const stowage = createStowageClient({ baseUrl: 'http://127.0.0.1:1', getToken: () => 't' });",
        'export async function send(blob: Blob): Promise<StowageFile["status"]> {',
        "  const file = await stowage.upload(blob, { bucketId: 'b', onProgress: (p) => p.fraction });",
        '  return file.rejectionReason === "FILE_TOO_LARGE" ? "rejected" : file.status;',
        '}',
        'export const isRefusal = (e: unknown) => e instanceof StowageApiError && e.status === 413;',
        '',
      ].join('\n'),
    );
    // Act / Assess: tsc exits 0 (it prints every error and exits non-zero otherwise).
    await run(process.execPath, [join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', app], {
      cwd: app,
    });
  });

  it('uploads and downloads with plain node, unbundled, against the local stack', async () => {
    // Prepare
    const tenantId = newTenant('pkgc');
    const admin = await client(tenantId, 'root', ['admin']);
    const bucketId = (await admin.post('/v1/buckets', { name: 'Installed' })).body.id as string;
    const token = await mintDevToken({ tenantId, userId: 'alice', roles: ['member'] });
    await writeFile(
      join(app, 'upload.mjs'),
      `import { createStowageClient } from '@stowage/client';
const { API_URL, TOKEN, BUCKET_ID } = process.env;
const stowage = createStowageClient({ baseUrl: API_URL, getToken: () => TOKEN });
const progress = [];
const file = await stowage.upload(new Blob(['hello from an installed package'], { type: 'text/plain' }), {
  bucketId: BUCKET_ID,
  filename: 'installed.txt',
  onProgress: (p) => progress.push(p.loaded),
});
const { url } = await stowage.getDownloadUrl(file.id);
const text = await (await fetch(url)).text();
console.log(JSON.stringify({ resolved: import.meta.resolve('@stowage/client'), file, progress, text }));
`,
    );
    // Act
    const { stdout } = await run(process.execPath, ['upload.mjs'], {
      cwd: app,
      env: { PATH: process.env.PATH, API_URL: inject('apiUrl'), TOKEN: token, BUCKET_ID: bucketId },
    });
    // Assess
    const out = JSON.parse(stdout);
    expect(out.resolved).toBe(`file://${join(pkgDir, 'dist', 'index.js')}`);
    expect(out.file).toMatchObject({ status: 'active', originalName: 'installed.txt', size: 31 });
    expect(out.text).toBe('hello from an installed package');
    expect(out.progress).toEqual([0, 31]);
    expect((await admin.get(`/v1/files/${out.file.id}`)).body.status).toBe('active');
  });

  it('imports unbundled in Chromium, module by module, and uploads through XMLHttpRequest', async () => {
    // Prepare: the installed dist/ served as plain files next to the API (same origin), no bundler.
    const tenantId = newTenant('pkgb');
    const admin = await client(tenantId, 'root', ['admin']);
    const bucketId = (await admin.post('/v1/buckets', { name: 'Browser' })).body.id as string;
    const token = await mintDevToken({ tenantId, userId: 'alice', roles: ['member'] });
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage();
      const served: string[] = [];
      await page.route(`${inject('apiUrl')}/installed/**`, async (route) => {
        const path = new URL(route.request().url()).pathname.slice('/installed/'.length);
        served.push(path);
        await route.fulfill({ contentType: 'text/javascript', body: await readFile(join(pkgDir, path)) });
      });
      await page.goto(`${inject('apiUrl')}/`);
      // Act: a string, so the test runner's transform leaves the page's import() alone.
      const file = (await page.evaluate(`(async () => {
        const { createStowageClient } = await import('/installed/dist/index.js');
        const stowage = createStowageClient({ baseUrl: location.origin, getToken: () => ${JSON.stringify(token)} });
        return stowage.upload(new Blob(['from the browser'], { type: 'text/plain' }), {
          bucketId: ${JSON.stringify(bucketId)}, filename: 'browser.txt',
        });
      })()`)) as { id: string; status: string; size: number };
      // Assess
      expect(file).toMatchObject({ status: 'active', size: 16 });
      expect(served).toContain('dist/upload.js');
      expect((await admin.get(`/v1/files/${file.id}`)).body.originalName).toBe('browser.txt');
    } finally {
      await browser.close();
    }
  });
});
