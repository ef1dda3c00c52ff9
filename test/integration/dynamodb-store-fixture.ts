import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { inject } from 'vitest';
import { createDynamoMetadataStore } from '../../shared/adapters/dynamodb/create-dynamo-metadata-store.js';
import { ensureTable } from '../../shared/adapters/dynamodb/table-definition.js';
import { objectKeys, tableKeys } from '../../shared/domain/keys.js';
import type { Bucket, FileRecord, Provider } from '../../shared/domain/model.js';
import type { MetadataStore } from '../../shared/ports/repositories.js';
import { stackDynamoCredentials } from '../support/dynamo.js';

export interface TestStore {
  store: MetadataStore;
  client: DynamoDBClient;
  doc: DynamoDBDocumentClient;
  tableName: string;
  close(): void;
}

/**
 * A fresh table on the DynamoDB Local of this test run, one per test file, so files run in
 * parallel without seeing each other. The document client has default marshalling options on
 * purpose: the store must not depend on `removeUndefinedValues`.
 */
export async function createTestStore(label: string): Promise<TestStore> {
  const client = new DynamoDBClient({
    endpoint: inject('dynamoEndpoint'),
    region: 'us-east-1',
    credentials: stackDynamoCredentials(),
  });
  const tableName = `stowage-${label}-${randomUUID().slice(0, 8)}`;
  await ensureTable(client, tableName);
  const doc = DynamoDBDocumentClient.from(client);
  const store = createDynamoMetadataStore({ client: doc, tableName });
  // A pending file is counted on its bucket, which must exist: these tests name buckets without
  // creating them, so the bucket item is put first where it is missing.
  const createPending = store.files.createPending.bind(store.files);
  store.files.createPending = async (file, event) => {
    await doc
      .send(
        new PutCommand({
          TableName: tableName,
          Item: { PK: tableKeys.tenantPk(file.tenantId), SK: tableKeys.bucketSk(file.bucketId) },
          ConditionExpression: 'attribute_not_exists(PK)',
        }),
      )
      .catch((error: Error) => {
        if (error.name !== 'ConditionalCheckFailedException') throw error;
      });
    return createPending(file, event);
  };
  return {
    store,
    client,
    doc,
    tableName,
    close: () => client.destroy(),
  };
}

/** A ULID-shaped id whose order follows `n`, so "newest first" is predictable. */
export const ulidLike = (n: number) => `01JD${String(n).padStart(22, '0')}`;

/** `2026-11-28T14:00:{n}.000Z`-style times, increasing with n (n < 3600). */
export const at = (n: number) => new Date(Date.UTC(2026, 10, 28, 14, 0, 0) + n * 1000).toISOString();

export function aProvider(overrides: Partial<Provider> = {}): Provider {
  return {
    id: 'minio1',
    type: 's3',
    name: 'Main Storage',
    config: {
      bucket: 'company-files',
      region: 'us-west-2',
      endpoint: 'http://minio:9000',
      forcePathStyle: true,
    },
    hasCredentials: true,
    createdAt: at(0),
    updatedAt: at(0),
    ...overrides,
  };
}

export function aBucket(overrides: Partial<Bucket> = {}): Bucket {
  return {
    id: 'bkt1',
    name: 'Customer Files',
    providerId: 'default',
    path: '/customer-files',
    allowedMimeTypes: ['image/jpeg', 'image/png', 'application/pdf'],
    maxFileSize: 10_485_760,
    retentionDays: 30,
    restricted: false,
    deleteUnreferenced: false,
    createdAt: at(0),
    updatedAt: at(0),
    ...overrides,
  };
}

/** The object a test's activation accepted, when the test does not care which. */
export const ANY_OBJECT = { etag: '"d41d8cd98f00b204e9800998ecf8427e"', versionId: null };

/** A pending file created at `at(n)` with id `ulidLike(n)`, unless overridden. */
export function aFile(tenantId: string, n: number, overrides: Partial<FileRecord> = {}): FileRecord {
  const id = overrides.id ?? ulidLike(n);
  const bucketId = overrides.bucketId ?? 'bkt1';
  return {
    id,
    tenantId,
    bucketId,
    providerId: 'default',
    originalName: `file-${n}.pdf`,
    mimeType: 'application/pdf',
    declaredMimeType: 'application/pdf',
    size: 100,
    sha256: null,
    status: 'pending',
    rejectionReason: null,
    uploadedBy: 'alice',
    createdAt: at(n),
    updatedAt: at(n),
    deletedAt: null,
    uploadExpiresAt: at(n + 900),
    multipart: null,
    references: [],
    objectKey: objectKeys.file(tenantId, bucketId, id),
    validatedObject: null,
    metadata: {},
    ...overrides,
  };
}
