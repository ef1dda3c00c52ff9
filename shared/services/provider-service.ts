import { requireRole } from '../domain/access.js';
import { conflict, notFound, validationFailed } from '../domain/errors.js';
import { hasUnsafeCharacters } from '../domain/filename.js';
import { DEFAULT_PROVIDER_ID } from '../domain/ids.js';
import type { Actor, Page, Provider, ProviderCredentials, S3ProviderConfig } from '../domain/model.js';
import { InUseError } from '../ports/repositories.js';
import { AuditTrail } from './audit-trail.js';
import { assertCallableEndpoint } from './endpoint-check.js';
import { pageInMemory } from './paging.js';
import type { ServiceDeps } from './service-deps.js';

export interface CreateProviderInput {
  type: 's3';
  name: string;
  config: S3ProviderConfig;
  credentials?: ProviderCredentials;
}

/** Providers: where bytes live. `default` is synthesised from the deployment's settings. */
export class ProviderService {
  private readonly audit: AuditTrail;

  constructor(
    private readonly deps: ServiceDeps,
    private readonly defaultProvider: Provider,
  ) {
    this.audit = new AuditTrail(deps);
  }

  async create(actor: Actor, input: CreateProviderInput): Promise<Provider> {
    requireRole(actor, 'admin');
    if (hasUnsafeCharacters(input.name) || !input.name.isWellFormed())
      throw validationFailed('name must be printable text without control or bidirectional characters.');
    if (input.config.endpoint !== undefined)
      await assertCallableEndpoint(input.config.endpoint, 'config.endpoint', {
        allowedOrigins: this.deps.settings.allowedEndpoints ?? [],
        resolver: this.deps.resolver,
      });
    const now = this.deps.clock.now().toISOString();
    const provider: Provider = {
      id: this.deps.ids.next(),
      type: input.type,
      name: input.name,
      config: input.config,
      hasCredentials: input.credentials !== undefined,
      createdAt: now,
      updatedAt: now,
    };
    // Secret first: a provider record must never point at credentials that are not there.
    if (input.credentials)
      await this.deps.secrets.putProviderCredentials(actor.tenantId, provider.id, input.credentials);
    try {
      await this.deps.metadata.providers.create(actor.tenantId, provider);
    } catch (error) {
      if (input.credentials) await this.deps.secrets.deleteProviderCredentials(actor.tenantId, provider.id);
      throw error;
    }
    await this.audit.record(actor.tenantId, {
      type: 'provider.created',
      actor: actor.userId,
      providerId: provider.id,
      details: { name: provider.name, type: provider.type },
    });
    return provider;
  }

  async get(actor: Actor, providerId: string): Promise<Provider> {
    requireRole(actor, 'admin');
    const provider = await this.find(actor.tenantId, providerId);
    if (!provider) throw notFound('The provider');
    return provider;
  }

  /** Providers are few per tenant: read them all, `default` first, and page in memory. */
  async list(actor: Actor, page: { limit: number; cursor?: string }): Promise<Page<Provider>> {
    requireRole(actor, 'admin');
    const all: Provider[] = [this.defaultProvider];
    let cursor: string | undefined;
    do {
      const chunk = await this.deps.metadata.providers.list(actor.tenantId, { limit: 1000, cursor });
      all.push(...chunk.items);
      cursor = chunk.nextCursor ?? undefined;
    } while (cursor);
    return pageInMemory(all, (p) => p.id, page, `providers:${actor.tenantId}`);
  }

  async delete(actor: Actor, providerId: string): Promise<void> {
    requireRole(actor, 'admin');
    if (providerId === DEFAULT_PROVIDER_ID) throw conflict('The default provider cannot be deleted.');
    let deleted: boolean;
    try {
      deleted = await this.deps.metadata.providers.delete(actor.tenantId, providerId);
    } catch (error) {
      if (error instanceof InUseError) throw conflict('The provider is still used by buckets.');
      throw error;
    }
    if (!deleted) throw notFound('The provider');
    await this.deps.secrets.deleteProviderCredentials(actor.tenantId, providerId);
    await this.audit.record(actor.tenantId, { type: 'provider.deleted', actor: actor.userId, providerId });
  }

  /** The provider record, `default` included; null when the tenant has no such provider. */
  async find(tenantId: string, providerId: string): Promise<Provider | null> {
    if (providerId === DEFAULT_PROVIDER_ID) return this.defaultProvider;
    return this.deps.metadata.providers.get(tenantId, providerId);
  }
}
