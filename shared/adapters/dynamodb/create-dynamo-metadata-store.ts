import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { MetadataStore } from '../../ports/repositories.js';
import { createBucketRepository } from './bucket-repository.js';
import { createEventRepository } from './event-repository.js';
import { createFileRepository } from './file-repository.js';
import { createGrantRepository } from './grant-repository.js';
import { createPreviewRepository } from './preview-repository.js';
import { createProviderRepository } from './provider-repository.js';
import { createQuotaRepository } from './quota-repository.js';
import { createReferenceRepository } from './reference-repository.js';
import { createShareLinkRepository } from './share-link-repository.js';
import type { TableContext } from './table-context.js';
import { createWebhookRepository } from './webhook-repository.js';

export interface DynamoMetadataStoreOptions {
  /** Built once per cold start by the composition root; the table must exist (`ensureTable`). */
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
  /** Told after each audit event commits (see `TableContext.onEventWritten`). */
  readonly onEventWritten?: TableContext['onEventWritten'];
}

/** The metadata ports over the one DynamoDB table described in `table-definition.ts`. */
export function createDynamoMetadataStore(opts: DynamoMetadataStoreOptions): MetadataStore {
  if (!opts.tableName) {
    throw new Error('createDynamoMetadataStore needs a tableName (set the table name in the config).');
  }
  const ctx: TableContext = {
    client: opts.client,
    tableName: opts.tableName,
    ...(opts.onEventWritten ? { onEventWritten: opts.onEventWritten } : {}),
  };
  return {
    providers: createProviderRepository(ctx),
    buckets: createBucketRepository(ctx),
    files: createFileRepository(ctx),
    references: createReferenceRepository(ctx),
    grants: createGrantRepository(ctx),
    events: createEventRepository(ctx),
    quota: createQuotaRepository(ctx),
    previews: createPreviewRepository(ctx),
    links: createShareLinkRepository(ctx),
    webhooks: createWebhookRepository(ctx),
  };
}
