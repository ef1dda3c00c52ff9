import { readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  installedManifest,
  type PackedWorkspace,
  packWorkspace,
  scratchProject,
} from '../../support/package-tarball.js';

/** Bare and relative module specifiers of `import … from` / `export … from` / `import()` in a file. */
const specifiers = (text: string) =>
  [...text.matchAll(/(?:from\s*|import\s*\(\s*|import\s+)['"]([^'"]+)['"]/g)].map((m) => m[1] as string);

/**
 * What `npm pack` puts in @stowage/uppy (its `prepack` builds `dist/`), unpacked as an app
 * installing it would have it: only its build, README and manifest, and code that imports
 * nothing but itself, its dependency and its peer.
 */
describe('@stowage/uppy as packed', () => {
  let packed: PackedWorkspace;
  let dir: string;

  beforeAll(async () => {
    packed = await packWorkspace('web/uppy');
    dir = await scratchProject({ tarballs: [packed] });
  }, 180_000);

  afterAll(async () => {
    if (packed) await rm(dirname(packed.tarball), { recursive: true, force: true });
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('holds only dist/, the README and package.json: no tests, no sources, no other package', () => {
    expect(packed.name).toBe('@stowage/uppy');
    const outside = packed.files.filter((f) => !/^dist\/[\w-]+\.(js|d\.ts)$/.test(f));
    expect(outside).toEqual(['README.md', 'package.json']);
    expect(packed.files).toEqual(
      expect.arrayContaining(['dist/index.js', 'dist/index.d.ts', 'dist/stowage.js']),
    );
    expect(
      packed.files.filter((f) => /test|client|file-manager|\.ts$/.test(f.replace(/\.d\.ts$/, ''))),
    ).toEqual([]);
  });

  it('declares Uppy 6 as its peer and @stowage/client as its one dependency, and exports what it ships', async () => {
    const manifest = (await installedManifest(dir, '@stowage/uppy')) as {
      peerDependencies: Record<string, string>;
      dependencies: Record<string, string>;
      exports: { '.': Record<string, string> };
      sideEffects: boolean;
      type: string;
    };
    expect(manifest.peerDependencies).toEqual({ '@uppy/core': '^6.0.0' });
    expect(Object.keys(manifest.dependencies)).toEqual(['@stowage/client']);
    expect(manifest).toMatchObject({ type: 'module', sideEffects: false });
    const { types, default: entry } = manifest.exports['.'];
    for (const target of [types, entry])
      expect(packed.files).toContain((target as string).replace(/^\.\//, ''));
  });

  it('imports nothing but its own files, @stowage/client and @uppy/core', async () => {
    const code = packed.files.filter((f) => f.startsWith('dist/'));
    const imported = new Set<string>();
    for (const file of code) {
      const text = await readFile(join(dir, 'node_modules', '@stowage/uppy', file), 'utf8');
      for (const spec of specifiers(text)) {
        if (spec.startsWith('.')) expect(code, `${file} imports ${spec}`).toContain(join('dist', spec));
        else imported.add(spec);
      }
    }
    expect([...imported].sort()).toEqual(['@stowage/client', '@uppy/core']);
  });
});
