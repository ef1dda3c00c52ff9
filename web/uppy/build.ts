import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/**
 * `npm run build`: this package's sources to `dist/` as ES modules with `.d.ts`, one file per
 * source. The compiler reads @stowage/client's sources through the repository's condition to
 * check the types; only this package's files are written, and their imports of
 * `@stowage/client` and `@uppy/core` stay package imports.
 */
const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const dist = join(here, 'dist');

const config = ts.readConfigFile(join(root, 'tsconfig.json'), ts.sys.readFile);
const { options } = ts.parseJsonConfigFileContent(config.config, ts.sys, root);
const program = ts.createProgram([join(here, 'index.ts')], {
  ...options,
  noEmit: false,
  declaration: true,
  sourceMap: false,
  rootDir: root,
  outDir: join(root, '.uppy-build'),
});

const diagnostics = ts.getPreEmitDiagnostics(program);
if (diagnostics.length > 0) {
  const host = {
    getCanonicalFileName: (f: string) => f,
    getCurrentDirectory: () => root,
    getNewLine: () => '\n',
  };
  process.stderr.write(ts.formatDiagnosticsWithColorAndContext(diagnostics, host));
  process.exit(1);
}

rmSync(dist, { recursive: true, force: true });
const written: string[] = [];
program.emit(undefined, (fileName, text) => {
  const inside = relative(join(root, '.uppy-build', 'web', 'uppy'), fileName);
  if (inside.startsWith('..') || inside === 'build.js' || inside === 'build.d.ts') return;
  const target = join(dist, inside);
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, text);
  written.push(inside);
});
console.log(`@stowage/uppy: wrote ${written.sort().join(', ')} to dist/`);
