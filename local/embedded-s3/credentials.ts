import { randomBytes } from 'node:crypto';
import { chmod, link, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface KeyPair {
  accessKeyId: string;
  secretAccessKey: string;
}

/** The store's key pair file inside its data dir, readable by its owner only. */
export const CREDENTIALS_FILE = 'credentials.json';
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/**
 * The key pair of a data dir: generated on first start (20-character id in AWS's style, 40
 * characters of secret from 30 random bytes) and written with mode 0600, then reused. There is
 * no built-in pair. A file that others can read is narrowed back to 0600.
 */
export async function loadOrCreateKeyPair(dataDir: string): Promise<KeyPair> {
  const path = join(dataDir, CREDENTIALS_FILE);
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const existing = await readKeyPair(path);
  if (existing) {
    const { mode } = await stat(path);
    if ((mode & 0o077) !== 0) await chmod(path, 0o600);
    return existing;
  }
  const pair: KeyPair = {
    accessKeyId: `AKSL${Array.from(randomBytes(16), (byte) => BASE32[byte % 32]).join('')}`,
    secretAccessKey: randomBytes(30).toString('base64'),
  };
  // Written whole, then linked into place: a second process starting on the same fresh data
  // dir either wins the link or reads the pair that did.
  const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(temp, `${JSON.stringify(pair, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  try {
    await link(temp, path);
    return pair;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const written = await readKeyPair(path);
    if (!written) throw error;
    return written;
  } finally {
    await rm(temp, { force: true });
  }
}

/**
 * The key pair a store uses for this data dir (what `npm run fsck` needs to talk to a running
 * `npm start`), or null before its first start.
 */
export async function readEmbeddedS3Credentials(dataDir: string): Promise<KeyPair | null> {
  return readKeyPair(join(dataDir, CREDENTIALS_FILE));
}

async function readKeyPair(path: string): Promise<KeyPair | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  const parsed = JSON.parse(text) as Partial<KeyPair>;
  if (
    typeof parsed.accessKeyId !== 'string' ||
    typeof parsed.secretAccessKey !== 'string' ||
    !parsed.accessKeyId ||
    !parsed.secretAccessKey
  ) {
    throw new Error(
      `${path} does not hold an accessKeyId and a secretAccessKey; delete it to generate a new pair`,
    );
  }
  return { accessKeyId: parsed.accessKeyId, secretAccessKey: parsed.secretAccessKey };
}
