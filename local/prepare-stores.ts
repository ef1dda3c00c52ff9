import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, HeadBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import type { StowageConfig } from '../functions/lib/config.js';
import { ensureTable, GLOBAL_SECONDARY_INDEXES } from '../shared/adapters/dynamodb/table-definition.js';
import { createS3Client } from '../shared/adapters/s3-object-store.js';
import { StartupError } from './startup-error.js';

export interface PrepareStoresOptions {
  config: StowageConfig;
  /** The embedded store made its buckets itself; only an external one is checked. */
  externalS3: boolean;
  /** DynamoDB Local gets the table created; an external DynamoDB is checked. */
  externalDynamo: boolean;
  /** `FILESTORE_CREATE_MISSING`: create what an external server lacks instead of stopping. */
  createMissing: boolean;
}

const CHECK_CLIENT = {
  maxAttempts: 2,
  // An endpoint that swallows packets must not hold `npm start` for minutes.
  requestHandler: { connectionTimeout: 3_000, requestTimeout: 10_000 },
} as const;

/**
 * Makes sure the uploads and preview buckets and the table exist before the stack says it is
 * ready: created where the stack owns the server (or `createMissing` says so), otherwise
 * checked, and every problem reported at once, with what to create and where.
 */
export async function prepareStores(opts: PrepareStoresOptions): Promise<void> {
  const { config } = opts;
  const problems = [...(opts.externalS3 ? await checkBuckets(opts) : []), ...(await prepareTable(opts))];
  if (problems.length === 0) return;
  const missing = problems.some((p) => p.includes('does not exist') || p.includes('lacks'));
  throw new StartupError(
    [
      ...problems.map((p) => `- ${p}`),
      ...(missing
        ? ['Create them, or start once with FILESTORE_CREATE_MISSING=true to let the stack create them.']
        : []),
      `(names: UPLOADS_BUCKET or S3_BUCKET = ${config.uploadsBucket}, PREVIEW_BUCKET = ${config.previewBucket}, TABLE_NAME = ${config.tableName})`,
    ].join('\n'),
  );
}

async function checkBuckets(opts: PrepareStoresOptions): Promise<string[]> {
  const { config } = opts;
  const endpoint = config.s3.endpoint ?? 'AWS S3';
  const client: S3Client = createS3Client({
    region: config.region,
    endpoint: config.s3.endpoint ?? undefined,
    forcePathStyle: config.s3.forcePathStyle,
    credentials: config.s3.credentials ?? undefined,
    maxAttempts: CHECK_CLIENT.maxAttempts,
  });
  const problems: string[] = [];
  try {
    for (const bucket of new Set([config.uploadsBucket, config.previewBucket])) {
      const problem = await checkBucket(client, bucket, endpoint, opts.createMissing);
      if (problem) problems.push(problem);
      // One unreachable server is one problem, not one per bucket.
      if (problem?.includes('does not answer')) break;
    }
  } finally {
    client.destroy();
  }
  return problems;
}

async function checkBucket(
  client: S3Client,
  bucket: string,
  endpoint: string,
  createMissing: boolean,
): Promise<string | null> {
  try {
    await client.send(new HeadBucketCommand({ Bucket: bucket }));
    return null;
  } catch (error) {
    const status = httpStatus(error);
    if (status === 404 && createMissing) {
      await client.send(new CreateBucketCommand({ Bucket: bucket }));
      return null;
    }
    if (status === 404) return `S3 bucket "${bucket}" does not exist at ${endpoint}.`;
    if (status === 403 || status === 401)
      return `S3 at ${endpoint} refuses access to bucket "${bucket}" (${status}): check S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY.`;
    return `S3_ENDPOINT ${endpoint} does not answer as S3 (${describe(error)}).`;
  }
}

async function prepareTable(opts: PrepareStoresOptions): Promise<string[]> {
  const { config } = opts;
  const endpoint = config.dynamo.endpoint ?? 'AWS DynamoDB';
  const client = new DynamoDBClient({
    region: config.region,
    ...(config.dynamo.endpoint ? { endpoint: config.dynamo.endpoint } : {}),
    ...(config.dynamo.credentials ? { credentials: config.dynamo.credentials } : {}),
    ...CHECK_CLIENT,
  });
  try {
    if (!opts.externalDynamo || opts.createMissing) {
      await ensureTable(client, config.tableName);
      return [];
    }
    const { Table } = await client.send(new DescribeTableCommand({ TableName: config.tableName }));
    const present = new Set((Table?.GlobalSecondaryIndexes ?? []).map((index) => index.IndexName));
    const missing = GLOBAL_SECONDARY_INDEXES.map((index) => index.indexName).filter(
      (name) => !present.has(name),
    );
    return missing.length === 0
      ? []
      : [
          `DynamoDB table "${config.tableName}" at ${endpoint} lacks the indexes ${missing.join(', ')} (see shared/adapters/dynamodb/table-definition.ts).`,
        ];
  } catch (error) {
    const name = (error as { name?: string }).name;
    if (name === 'ResourceNotFoundException')
      return [
        `DynamoDB table "${config.tableName}" does not exist at ${endpoint} (its definition: shared/adapters/dynamodb/table-definition.ts).`,
      ];
    if (
      name === 'UnrecognizedClientException' ||
      name === 'InvalidSignatureException' ||
      name === 'AccessDeniedException'
    )
      return [
        `DynamoDB at ${endpoint} refuses the credentials (${name}): check DYNAMODB_ACCESS_KEY_ID and DYNAMODB_SECRET_ACCESS_KEY.`,
      ];
    if (!opts.externalDynamo) throw error;
    return [`DYNAMODB_ENDPOINT ${endpoint} does not answer as DynamoDB (${describe(error)}).`];
  } finally {
    client.destroy();
  }
}

const httpStatus = (error: unknown) =>
  (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;

/** A network error's code (ECONNREFUSED, ENOTFOUND...) or the SDK error's name, never a stack. */
function describe(error: unknown): string {
  const code = (error as { code?: string }).code;
  const name = (error as { name?: string }).name;
  const status = httpStatus(error);
  return [code ?? name ?? 'unknown error', status ? `HTTP ${status}` : null].filter(Boolean).join(', ');
}
