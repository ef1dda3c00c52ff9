import { execFile } from 'node:child_process';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  installedManifest,
  type PackedWorkspace,
  packWorkspace,
  repoRoot,
  scratchProject,
} from '../support/package-tarball.js';

const run = promisify(execFile);

/** The app outside the repository: one page that mounts the FileManager with its styles. */
const APP = {
  'index.html': `<!doctype html><html><head><meta charset="utf-8"><title>app</title></head>
<body><div id="root"></div><script type="module" src="/src/main.jsx"></script></body></html>\n`,
  'src/main.jsx': `import { FileManager } from '@stowage/file-manager';
import '@stowage/file-manager/styles.css';
import { createRoot } from 'react-dom/client';

createRoot(document.getElementById('root')).render(
  <FileManager apiUrl="https://files.example.com" getToken={() => 'token'}
    bucketId="b-1" entityType="ticket" entityId="T-1" userId="alice" />,
);
`,
  // Vite's programmatic build, printing every module that went into the bundle.
  'build.mjs': `import { build } from 'vite';
const result = await build({ logLevel: 'warn', oxc: { jsx: { runtime: 'automatic' } } });
const outputs = (Array.isArray(result) ? result : [result]).flatMap((r) => r.output);
const modules = outputs.flatMap((o) => (o.type === 'chunk' ? Object.keys(o.modules) : []));
console.log(JSON.stringify(modules));
`,
};

/**
 * @stowage/client as its package would carry it, for a branch where the client package does not
 * build yet: its sources bundled into the one file its `exports` name. Taken only when the
 * packed client has no dist/ (the bundle a Vite app resolves needs nothing else of it).
 */
async function standInClientDist(dir: string) {
  await build({
    entryPoints: [join(repoRoot, 'web/client/index.ts')],
    outfile: join(dir, 'node_modules/@stowage/client/dist/index.js'),
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    conditions: ['@stowage/source'],
    logLevel: 'silent',
  });
}

describe('@stowage/file-manager from its tarball', () => {
  let packed: PackedWorkspace;
  let client: PackedWorkspace;
  let app: string;

  beforeAll(async () => {
    packed = await packWorkspace('web/file-manager');
    client = await packWorkspace('web/client');
    app = await scratchProject({ tarballs: [packed, client], linkFromRepo: ['vite', 'react', 'react-dom'] });
    if (!client.files.includes('dist/index.js')) await standInClientDist(app);
  }, 180_000);

  afterAll(async () => {
    for (const dir of [
      app,
      packed?.tarball && dirname(packed.tarball),
      client?.tarball && dirname(client.tarball),
    ])
      if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('packs its build, README and package.json only: no sources, no tests, nothing of other packages', async () => {
    const sources = (await readdir(join(repoRoot, 'web/file-manager'))).filter((f) => /\.tsx?$/.test(f));
    const built = packed.files.filter((f) => f.startsWith('dist/'));
    // Every built file comes from one of this package's own modules (or is its stylesheet).
    const modulesOf = (f: string) => f.slice('dist/'.length).replace(/\.(d\.ts|js)$/, '');
    expect(packed.files.filter((f) => !f.startsWith('dist/'))).toEqual(['README.md', 'package.json']);
    expect(built).toEqual(expect.arrayContaining(['dist/index.js', 'dist/index.d.ts', 'dist/styles.css']));
    expect(
      built
        .filter((f) => f !== 'dist/styles.css')
        .filter((f) => !sources.some((s) => s.replace(/\.tsx?$/, '') === modulesOf(f))),
    ).toEqual([]);
    expect(packed.files.filter((f) => /\.test\.|\.tsx?$/.test(f) && !f.endsWith('.d.ts'))).toEqual([]);
    const manifest = await installedManifest(app, '@stowage/file-manager');
    expect(manifest.peerDependencies).toEqual({ react: '^18 || ^19', 'react-dom': '^18 || ^19' });
    expect(manifest.dependencies).toEqual({ '@stowage/client': '^0.1.0' });
  });

  it('imports in Node as plain ESM: the component and both hooks', async () => {
    const { stdout } = await run(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        "const m = await import('@stowage/file-manager'); console.log([m.FileManager, m.useUploads, m.useFileList].map((x) => typeof x).join())",
      ],
      { cwd: app },
    );
    expect(stdout.trim()).toBe('function,function,function');
  });

  it('builds with Vite into a page holding the component, its styles and one React', async () => {
    // Prepare
    for (const [path, text] of Object.entries(APP)) {
      await mkdir(join(app, path, '..'), { recursive: true });
      await writeFile(join(app, path), text);
    }
    // Act
    const { stdout } = await run(process.execPath, ['build.mjs'], { cwd: app, maxBuffer: 16 * 1024 * 1024 });
    // Assess: the installed package's dist went in, with the client's, and React once.
    const modules = JSON.parse(stdout.slice(stdout.indexOf('['))) as string[];
    const packageOf = (name: string) =>
      new Set(modules.map((m) => m.match(new RegExp(`^(.*/node_modules/${name})/`))?.[1]).filter(Boolean));
    expect(modules.some((m) => m.endsWith('node_modules/@stowage/file-manager/dist/file-manager.js'))).toBe(
      true,
    );
    expect(modules.some((m) => m.includes('node_modules/@stowage/client/dist/'))).toBe(true);
    expect(modules.filter((m) => m.includes(repoRoot) && !m.includes('/node_modules/'))).toEqual([]);
    expect(packageOf('react').size).toBe(1);
    expect(packageOf('react-dom').size).toBe(1);
    const assets = await readdir(join(app, 'dist/assets'));
    const js = await readFile(join(app, 'dist/assets', assets.find((f) => f.endsWith('.js')) ?? ''), 'utf8');
    const css = await readFile(
      join(app, 'dist/assets', assets.find((f) => f.endsWith('.css')) ?? ''),
      'utf8',
    );
    expect(js).toContain('Choose files to upload');
    expect(js).toContain('Drop files here');
    expect(css).toMatch(/\.sfm \.sfm-drop\{/);
    expect(css).toContain('var(--sfm-accent');
  }, 120_000);
});
