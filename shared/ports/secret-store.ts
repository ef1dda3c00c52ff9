import type { ProviderCredentials } from '../domain/model.js';

/** Where provider credentials and webhook secrets live: AWS Secrets Manager, or an encrypted local file. */
export interface SecretStore {
  putProviderCredentials(
    tenantId: string,
    providerId: string,
    credentials: ProviderCredentials,
  ): Promise<void>;
  getProviderCredentials(tenantId: string, providerId: string): Promise<ProviderCredentials | null>;
  deleteProviderCredentials(tenantId: string, providerId: string): Promise<void>;
  /** A webhook's signing secret (API.md 13.5): written once at creation, read by the delivery. */
  putWebhookSecret(tenantId: string, webhookId: string, secret: string): Promise<void>;
  getWebhookSecret(tenantId: string, webhookId: string): Promise<string | null>;
  deleteWebhookSecret(tenantId: string, webhookId: string): Promise<void>;
}
