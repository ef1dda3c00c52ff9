import type { ProviderCredentials } from '../domain/model.js';

/** Where provider credentials live: AWS Secrets Manager, or an encrypted local file. */
export interface SecretStore {
  putProviderCredentials(
    tenantId: string,
    providerId: string,
    credentials: ProviderCredentials,
  ): Promise<void>;
  getProviderCredentials(tenantId: string, providerId: string): Promise<ProviderCredentials | null>;
  deleteProviderCredentials(tenantId: string, providerId: string): Promise<void>;
}
