import {
  CreateSecretCommand,
  DeleteSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { ProviderCredentials } from '../domain/model.js';
import type { SecretStore } from '../ports/secret-store.js';

/** Provider credentials in AWS Secrets Manager, one secret per provider under a prefix. */
export function createSecretsManagerSecretStore(opts: {
  client: SecretsManagerClient;
  prefix: string;
}): SecretStore {
  const nameOf = (tenantId: string, providerId: string) =>
    `${opts.prefix}/${tenantId}/providers/${providerId}`;
  const webhookName = (tenantId: string, webhookId: string) =>
    `${opts.prefix}/${tenantId}/webhooks/${webhookId}`;
  const put = async (name: string, tenantId: string, SecretString: string) => {
    try {
      await opts.client.send(
        new CreateSecretCommand({ Name: name, SecretString, Tags: [{ Key: 'tenant', Value: tenantId }] }),
      );
    } catch (error) {
      if (!(error instanceof ResourceExistsException)) throw error;
      await opts.client.send(new PutSecretValueCommand({ SecretId: name, SecretString }));
    }
  };
  const get = async (name: string) => {
    try {
      const out = await opts.client.send(new GetSecretValueCommand({ SecretId: name }));
      return out.SecretString ?? null;
    } catch (error) {
      if (error instanceof ResourceNotFoundException) return null;
      throw error;
    }
  };
  const remove = async (name: string) => {
    try {
      await opts.client.send(new DeleteSecretCommand({ SecretId: name, ForceDeleteWithoutRecovery: true }));
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw error;
    }
  };
  return {
    putWebhookSecret: (tenantId, webhookId, secret) =>
      put(webhookName(tenantId, webhookId), tenantId, secret),
    getWebhookSecret: (tenantId, webhookId) => get(webhookName(tenantId, webhookId)),
    deleteWebhookSecret: (tenantId, webhookId) => remove(webhookName(tenantId, webhookId)),
    async putProviderCredentials(tenantId, providerId, credentials) {
      const SecretString = JSON.stringify(credentials);
      const name = nameOf(tenantId, providerId);
      try {
        await opts.client.send(
          new CreateSecretCommand({ Name: name, SecretString, Tags: [{ Key: 'tenant', Value: tenantId }] }),
        );
      } catch (error) {
        if (!(error instanceof ResourceExistsException)) throw error;
        await opts.client.send(new PutSecretValueCommand({ SecretId: name, SecretString }));
      }
    },
    async getProviderCredentials(tenantId, providerId) {
      try {
        const out = await opts.client.send(
          new GetSecretValueCommand({ SecretId: nameOf(tenantId, providerId) }),
        );
        return out.SecretString ? (JSON.parse(out.SecretString) as ProviderCredentials) : null;
      } catch (error) {
        if (error instanceof ResourceNotFoundException) return null;
        throw error;
      }
    },
    async deleteProviderCredentials(tenantId, providerId) {
      try {
        await opts.client.send(
          new DeleteSecretCommand({
            SecretId: nameOf(tenantId, providerId),
            ForceDeleteWithoutRecovery: true,
          }),
        );
      } catch (error) {
        if (!(error instanceof ResourceNotFoundException)) throw error;
      }
    },
  };
}
