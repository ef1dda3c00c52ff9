import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The repository root (where the workspaces' `package.json` lists them). */
export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface PackedWorkspace {
  /** Absolute path of the `.tgz` that `npm pack` wrote. */
  tarball: string;
  /** Paths inside the package, as `npm pack --json` lists them (`package.json`, `dist/index.js`...). */
  files: string[];
  name: string;
  version: string;
}

/**
 * Packs a workspace exactly as `npm publish` would (its `prepack` script runs, so `dist/` is
 * built), into a fresh temporary folder.
 */
export async function packWorkspace(workspace: string): Promise<PackedWorkspace> {
  const destination = await mkdtemp(join(tmpdir(), 'stowage-pack-'));
  const { stdout } = await run(
    'npm',
    ['pack', '--json', '--workspace', workspace, '--pack-destination', destination, '--loglevel=error'],
    { cwd: repoRoot, maxBuffer: 64 * 1024 * 1024 },
  );
  // npm prints lifecycle output before the JSON when a prepack script runs.
  const [packed] = JSON.parse(stdout.slice(stdout.indexOf('['))) as Array<{
    filename: string;
    name: string;
    version: string;
    files: Array<{ path: string }>;
  }>;
  if (!packed) throw new Error(`npm pack --workspace ${workspace} printed no package`);
  return {
    tarball: join(destination, packed.filename),
    files: packed.files.map((f) => f.path).sort(),
    name: packed.name,
    version: packed.version,
  };
}

/**
 * A scratch project (`"type": "module"`) outside the repository with the given tarballs
 * installed as an app would have them: each unpacked into `node_modules/<name>`. Tests may not
 * download, so the third-party packages a scratch app needs (`aws-cdk-lib`, `react`...) are
 * linked from the repository's `node_modules` instead of installed from the registry.
 */
export async function scratchProject(opts: {
  tarballs: PackedWorkspace[];
  linkFromRepo?: string[];
}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'stowage-scratch-'));
  await run('sh', ['-c', `printf '{"name":"scratch-app","private":true,"type":"module"}' > package.json`], {
    cwd: dir,
  });
  for (const packed of opts.tarballs) {
    const target = join(dir, 'node_modules', packed.name);
    await mkdir(target, { recursive: true });
    await run('tar', ['-xzf', packed.tarball, '-C', target, '--strip-components=1']);
  }
  for (const name of opts.linkFromRepo ?? []) {
    const target = join(dir, 'node_modules', name);
    await mkdir(dirname(target), { recursive: true });
    await symlink(join(repoRoot, 'node_modules', name), target, 'dir');
  }
  return dir;
}

/** The installed package's own `package.json`, read from a scratch project. */
export async function installedManifest(dir: string, name: string): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(join(dir, 'node_modules', name, 'package.json'), 'utf8'));
}
