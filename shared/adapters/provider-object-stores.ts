import type { S3Client } from '@aws-sdk/client-s3';
import { notFound } from '../domain/errors.js';
import { DEFAULT_PROVIDER_ID } from '../domain/ids.js';
import type { ObjectStore, ObjectStoreResolver } from '../ports/object-store.js';
import type { ProviderRepository } from '../ports/repositories.js';
import type { SecretStore } from '../ports/secret-store.js';
import type { GuardedAgents } from './guarded-http.js';
import { createS3Client, createS3ObjectStore } from './s3-object-store.js';

const CACHE_TTL_MS = 5 * 60_000;

/**
 * The provider factory: the deployment's own store for `default`, and an S3 client built from
 * the provider record and its secret for the others, cached per warm container. A tenant's
 * provider connects only through the guarded agents (API.md section 13.7, on the address
 * actually connected to) and only with its own credentials: without them it is anonymous,
 * never the function's own (the SDK's default chain would be the Lambda role).
 */
export function createProviderObjectStores(opts: {
  defaultStore: ObjectStore;
  providers: Pick<ProviderRepository, 'get'>;
  secrets: SecretStore;
  /** The agents of guarded-http.ts: tenants name these endpoints, so every connection is judged. */
  agents: GuardedAgents;
  /** Tests and the local stack can route custom providers differently. */
  clientFor?: typeof createS3Client;
}): ObjectStoreResolver {
  const cache = new Map<string, { store: ObjectStore; client: S3Client; at: number }>();
  const clientFor = opts.clientFor ?? createS3Client;
  return {
    defaultStore: () => opts.defaultStore,
    async forProvider(tenantId, providerId) {
      if (providerId === DEFAULT_PROVIDER_ID) return opts.defaultStore;
      const cacheKey = `${tenantId}/${providerId}`;
      const hit = cache.get(cacheKey);
      if (hit && Date.now() - hit.at < CACHE_TTL_MS) return hit.store;
      const provider = await opts.providers.get(tenantId, providerId);
      if (!provider) throw notFound('The provider');
      const credentials = provider.hasCredentials
        ? await opts.secrets.getProviderCredentials(tenantId, providerId)
        : null;
      const client = clientFor({
        region: provider.config.region,
        endpoint: provider.config.endpoint,
        forcePathStyle: provider.config.forcePathStyle,
        credentials: credentials ?? 'anonymous',
        agents: opts.agents,
      });
      const store = createS3ObjectStore({ client, bucket: provider.config.bucket });
      hit?.client.destroy();
      cache.set(cacheKey, { store, client, at: Date.now() });
      return store;
    },
  };
}
