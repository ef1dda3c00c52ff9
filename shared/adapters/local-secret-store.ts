import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ProviderCredentials } from '../domain/model.js';
import type { SecretStore } from '../ports/secret-store.js';

interface SealedFile {
  [name: string]: { iv: string; tag: string; data: string };
}

/**
 * Provider credentials and webhook secrets for the local stack: one JSON file of AES-256-GCM sealed entries,
 * each bound to its tenant and provider (the name is the authenticated data). The key comes
 * from FILESTORE_SECRET_KEY, or is generated once into `secret.key` (mode 0600). Nothing is
 * ever written in clear text.
 */
export function createLocalSecretStore(opts: { dataDir: string; keyBase64: string | null }): SecretStore {
  const file = join(opts.dataDir, 'secrets.json');
  const keyFile = join(opts.dataDir, 'secret.key');
  let keyPromise: Promise<Buffer> | undefined;
  let queue: Promise<unknown> = Promise.resolve();

  const key = () => {
    keyPromise ??= (async () => {
      if (opts.keyBase64) {
        const k = Buffer.from(opts.keyBase64, 'base64');
        if (k.length !== 32) throw new Error('FILESTORE_SECRET_KEY must be 32 bytes, base64-encoded.');
        return k;
      }
      await mkdir(opts.dataDir, { recursive: true });
      try {
        return Buffer.from((await readFile(keyFile, 'utf8')).trim(), 'base64');
      } catch {
        const k = randomBytes(32);
        await writeFile(keyFile, k.toString('base64'), { mode: 0o600, flag: 'wx' }).catch(() => undefined);
        await chmod(keyFile, 0o600);
        return Buffer.from((await readFile(keyFile, 'utf8')).trim(), 'base64');
      }
    })();
    return keyPromise;
  };

  // Only a missing file is empty: a corrupt one must fail loudly, or the next write would
  // replace every other tenant's entries.
  const load = async (): Promise<SealedFile> => {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw error;
    }
    return JSON.parse(text) as SealedFile;
  };
  const save = async (sealed: SealedFile) => {
    await mkdir(opts.dataDir, { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(sealed), { mode: 0o600 });
    await rename(tmp, file);
  };
  // Writes are serialised within the process so concurrent requests do not lose entries.
  const exclusive = <T>(work: () => Promise<T>): Promise<T> => {
    const run = queue.then(work, work);
    queue = run.catch(() => undefined);
    return run;
  };
  const nameOf = (tenantId: string, providerId: string) => `${tenantId}/${providerId}`;

  const seal = (name: string, clearText: string) =>
    exclusive(async () => {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', await key(), iv);
      cipher.setAAD(Buffer.from(name));
      const data = Buffer.concat([cipher.update(clearText, 'utf8'), cipher.final()]);
      const sealed = await load();
      sealed[name] = {
        iv: iv.toString('base64'),
        tag: cipher.getAuthTag().toString('base64'),
        data: data.toString('base64'),
      };
      await save(sealed);
    });
  const unseal = async (name: string): Promise<string | null> => {
    const entry = (await load())[name];
    if (!entry) return null;
    const decipher = createDecipheriv('aes-256-gcm', await key(), Buffer.from(entry.iv, 'base64'));
    decipher.setAAD(Buffer.from(name));
    decipher.setAuthTag(Buffer.from(entry.tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(entry.data, 'base64')), decipher.final()]).toString(
      'utf8',
    );
  };
  const remove = (name: string) =>
    exclusive(async () => {
      const sealed = await load();
      if (!(name in sealed)) return;
      delete sealed[name];
      await save(sealed);
    });
  // Provider entries keep their historic names (`{t}/{providerId}`); webhook ids are ULIDs, so
  // `{t}/webhooks/{id}` cannot collide with one.
  const webhookName = (tenantId: string, webhookId: string) => `${tenantId}/webhooks/${webhookId}`;

  return {
    putProviderCredentials: (tenantId, providerId, credentials) =>
      seal(nameOf(tenantId, providerId), JSON.stringify(credentials)),
    getProviderCredentials: async (tenantId, providerId) => {
      const clear = await unseal(nameOf(tenantId, providerId));
      return clear === null ? null : (JSON.parse(clear) as ProviderCredentials);
    },
    deleteProviderCredentials: (tenantId, providerId) => remove(nameOf(tenantId, providerId)),
    putWebhookSecret: (tenantId, webhookId, secret) => seal(webhookName(tenantId, webhookId), secret),
    getWebhookSecret: (tenantId, webhookId) => unseal(webhookName(tenantId, webhookId)),
    deleteWebhookSecret: (tenantId, webhookId) => remove(webhookName(tenantId, webhookId)),
  };
}
