import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLocalSecretStore } from '../../../shared/adapters/local-secret-store.js';

const alpha = { accessKeyId: 'test-alpha-key-id', secretAccessKey: 'alpha-test-secret' };
const beta = {
  accessKeyId: 'test-beta-key-id',
  secretAccessKey: 'beta-test-secret',
  sessionToken: 'tok',
};

let dataDir: string;
beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'stowage-secrets-'));
});
afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

const secretsFile = () => join(dataDir, 'secrets.json');
const readSealed = async () => JSON.parse(await readFile(secretsFile(), 'utf8')) as Record<string, unknown>;

describe('createLocalSecretStore', () => {
  it('gives back what was put, per tenant and provider, and forgets what was deleted', async () => {
    const store = createLocalSecretStore({ dataDir, keyBase64: null });
    await store.putProviderCredentials('acme', 'p1', alpha);
    await store.putProviderCredentials('acme', 'p2', beta);
    expect(await store.getProviderCredentials('acme', 'p1')).toEqual(alpha);
    expect(await store.getProviderCredentials('acme', 'p2')).toEqual(beta);
    expect(await store.getProviderCredentials('other', 'p1')).toBeNull();

    // a new process with the same data dir reads them with the key it kept
    const reopened = createLocalSecretStore({ dataDir, keyBase64: null });
    expect(await reopened.getProviderCredentials('acme', 'p2')).toEqual(beta);

    await store.deleteProviderCredentials('acme', 'p1');
    expect(await store.getProviderCredentials('acme', 'p1')).toBeNull();
    expect(await store.getProviderCredentials('acme', 'p2')).toEqual(beta);
  });

  it('fails on a corrupt sealed file instead of overwriting the other entries', async () => {
    const store = createLocalSecretStore({ dataDir, keyBase64: null });
    await store.putProviderCredentials('acme', 'p1', alpha);
    await writeFile(secretsFile(), '{ "acme/p1": { "iv": "trunc');
    await expect(store.putProviderCredentials('acme', 'p2', beta)).rejects.toThrow();
    expect(await readFile(secretsFile(), 'utf8')).toBe('{ "acme/p1": { "iv": "trunc');
  });

  it('keeps every entry when writes happen at once', async () => {
    const store = createLocalSecretStore({ dataDir, keyBase64: null });
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => store.putProviderCredentials('acme', `p${i}`, alpha)),
    );
    expect(Object.keys(await readSealed())).toHaveLength(20);
  });

  it('writes no secret in clear text', async () => {
    const store = createLocalSecretStore({ dataDir, keyBase64: null });
    await store.putProviderCredentials('acme', 'p1', alpha);
    await store.putProviderCredentials('acme', 'p2', beta);
    const onDisk = await readFile(secretsFile(), 'utf8');
    for (const clear of [alpha.secretAccessKey, alpha.accessKeyId, beta.secretAccessKey, beta.sessionToken])
      expect(onDisk).not.toContain(clear);
    expect(onDisk).not.toContain(Buffer.from(alpha.secretAccessKey).toString('base64'));
  });

  it('refuses an entry whose ciphertext or tag was tampered with', async () => {
    const store = createLocalSecretStore({ dataDir, keyBase64: null });
    await store.putProviderCredentials('acme', 'p1', alpha);
    const sealed = (await readSealed()) as Record<string, { iv: string; tag: string; data: string }>;
    const entry = sealed['acme/p1']!;
    const data = Buffer.from(entry.data, 'base64');
    data[0] = (data[0] as number) ^ 0x01;
    await writeFile(
      secretsFile(),
      JSON.stringify({ 'acme/p1': { ...entry, data: data.toString('base64') } }),
    );
    await expect(store.getProviderCredentials('acme', 'p1')).rejects.toThrow();

    const tag = Buffer.from(entry.tag, 'base64');
    tag[0] = (tag[0] as number) ^ 0x01;
    await writeFile(secretsFile(), JSON.stringify({ 'acme/p1': { ...entry, tag: tag.toString('base64') } }));
    await expect(store.getProviderCredentials('acme', 'p1')).rejects.toThrow();
  });

  it('binds each entry to its tenant and provider: swapped entries do not open', async () => {
    const store = createLocalSecretStore({ dataDir, keyBase64: null });
    await store.putProviderCredentials('acme', 'p1', alpha);
    await store.putProviderCredentials('evil', 'p1', beta);
    const sealed = await readSealed();
    await writeFile(
      secretsFile(),
      JSON.stringify({ 'acme/p1': sealed['evil/p1'], 'evil/p1': sealed['acme/p1'] }),
    );
    await expect(store.getProviderCredentials('acme', 'p1')).rejects.toThrow();
    await expect(store.getProviderCredentials('evil', 'p1')).rejects.toThrow();
  });

  it('keeps the generated key and the sealed file readable by the owner only', async () => {
    const store = createLocalSecretStore({ dataDir, keyBase64: null });
    await store.putProviderCredentials('acme', 'p1', alpha);
    expect((await stat(join(dataDir, 'secret.key'))).mode & 0o777).toBe(0o600);
    expect((await stat(secretsFile())).mode & 0o777).toBe(0o600);
    expect(Buffer.from((await readFile(join(dataDir, 'secret.key'), 'utf8')).trim(), 'base64')).toHaveLength(
      32,
    );
  });

  it('uses a configured key instead of generating one, and another key cannot open the entries', async () => {
    const key = randomBytes(32).toString('base64');
    const store = createLocalSecretStore({ dataDir, keyBase64: key });
    await store.putProviderCredentials('acme', 'p1', alpha);
    await expect(stat(join(dataDir, 'secret.key'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(
      await createLocalSecretStore({ dataDir, keyBase64: key }).getProviderCredentials('acme', 'p1'),
    ).toEqual(alpha);
    const otherKey = randomBytes(32).toString('base64');
    await expect(
      createLocalSecretStore({ dataDir, keyBase64: otherKey }).getProviderCredentials('acme', 'p1'),
    ).rejects.toThrow();
  });

  it('fails fast on a configured key that is not 32 bytes', async () => {
    const store = createLocalSecretStore({ dataDir, keyBase64: randomBytes(16).toString('base64') });
    await expect(store.putProviderCredentials('acme', 'p1', alpha)).rejects.toThrow(/FILESTORE_SECRET_KEY/);
  });
});
