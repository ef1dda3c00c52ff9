import { chmod, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  CREDENTIALS_FILE,
  loadOrCreateKeyPair,
  readEmbeddedS3Credentials,
} from '../../../../local/embedded-s3/credentials.js';

let dataDir: string;
beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'stowage-keys-'));
});
afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

describe('loadOrCreateKeyPair', () => {
  it('generates a random pair per data dir, readable by its owner only, and reuses it', async () => {
    // Act
    const first = await loadOrCreateKeyPair(dataDir);
    const again = await loadOrCreateKeyPair(dataDir);
    const elsewhere = await loadOrCreateKeyPair(join(dataDir, 'other'));

    // Assess
    expect((await stat(join(dataDir, CREDENTIALS_FILE))).mode & 0o777).toBe(0o600);
    expect(again).toEqual(first);
    expect(await readEmbeddedS3Credentials(dataDir)).toEqual(first);
    expect(elsewhere.accessKeyId).not.toBe(first.accessKeyId);
    expect(first.accessKeyId).toMatch(/^AKSL[A-Z2-7]{16}$/);
    expect(first.secretAccessKey).toHaveLength(40);
    expect([first.accessKeyId, first.secretAccessKey]).not.toContain('S3RVER');
  });

  it('gives two stores starting at once on a fresh data dir the same pair', async () => {
    const pairs = await Promise.all(Array.from({ length: 8 }, () => loadOrCreateKeyPair(dataDir)));
    expect(new Set(pairs.map((p) => p.secretAccessKey)).size).toBe(1);
  });

  it('narrows a key file others could read back to 0600', async () => {
    await loadOrCreateKeyPair(dataDir);
    await chmod(join(dataDir, CREDENTIALS_FILE), 0o644);
    await loadOrCreateKeyPair(dataDir);
    expect((await stat(join(dataDir, CREDENTIALS_FILE))).mode & 0o777).toBe(0o600);
  });

  it('answers null before the first start', async () => {
    expect(await readEmbeddedS3Credentials(join(dataDir, 'never-started'))).toBeNull();
  });
});
