import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ConfigError } from '../functions/lib/config.js';

/**
 * The stack's own key pair, under its data directory: the embedded servers (the S3 store and
 * DynamoDB Local's proxy) accept requests signed with it, one pair as one AWS account has.
 */
export const LOCAL_KEY_FILE = 'local-credentials.json';
export const LOCAL_KEY_PREFIX = 'STOWAGELOCAL';

export interface KeyPair {
  accessKeyId: string;
  secretAccessKey: string;
}

/**
 * The access key pair stored in `file` (JSON, mode 0600), generated on first use: an embedded
 * server's own credentials, stable across restarts of one data directory so that tools pointed
 * at it (the AWS CLI, `npm run fsck`) keep working, and known to nobody else.
 */
export async function loadOrCreateKeyPair(file: string, prefix: string): Promise<KeyPair> {
  const existing = await read(file);
  if (existing) return existing;
  await mkdir(dirname(file), { recursive: true });
  const pair: KeyPair = {
    accessKeyId: `${prefix}${randomBytes(10).toString('hex').toUpperCase()}`,
    secretAccessKey: randomBytes(30).toString('base64'),
  };
  // `wx`: of two processes starting on one data directory, the second reads the first's pair.
  await writeFile(file, `${JSON.stringify(pair, null, 2)}\n`, { mode: 0o600, flag: 'wx' }).catch(
    (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
    },
  );
  const stored = await read(file);
  if (!stored) throw new ConfigError(`${file} could not be created.`);
  return stored;
}

async function read(file: string): Promise<KeyPair | null> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  const parsed = JSON.parse(text) as Partial<KeyPair>;
  if (typeof parsed.accessKeyId !== 'string' || typeof parsed.secretAccessKey !== 'string')
    throw new ConfigError(`${file} is not a key pair: delete it to have a new one generated.`);
  return { accessKeyId: parsed.accessKeyId, secretAccessKey: parsed.secretAccessKey };
}
