import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const LOCK_FILE = 'embedded-s3.pid';

/**
 * Claims a data dir for this process: two stores on one directory would each keep their own
 * index of its keys. A lock left by a process that is gone is taken over. Answers the release.
 */
export async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  const path = join(dataDir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(path, String(process.pid), { flag: 'wx', mode: 0o600 });
      return () => rm(path, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = Number((await readFile(path, 'utf8').catch(() => '')).trim());
    if (Number.isInteger(owner) && owner > 0 && isAlive(owner)) {
      throw new Error(
        `The embedded S3 data dir ${dataDir} is in use by process ${owner}${owner === process.pid ? ' (this one)' : ''}; stop it first or use another FILESTORE_DATA_DIR`,
      );
    }
    await rm(path, { force: true });
  }
  throw new Error(`Could not lock the embedded S3 data dir ${dataDir}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
