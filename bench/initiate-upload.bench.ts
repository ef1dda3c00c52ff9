import { performance } from 'node:perf_hooks';
import {
  type AttributeValue,
  DynamoDBClient,
  PutItemCommand,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { objectKeys } from '../shared/domain/keys.js';
import type { BenchContext } from './lib/bench-context.js';
import { type ApiAnswer, createBenchTenant, expectStatus } from './lib/bench-tenant.js';
import { instrument } from './lib/instrument.js';
import { interleave, samplesOf } from './lib/interleave.js';
import { type BenchReport, type BenchTable, ms, ratio, timingTable } from './lib/report.js';
import { summarize } from './lib/stats.js';

// DynamoDB Local (Java) keeps getting faster for ~1000 requests as its JIT warms up.
const WARMUP = 150;
const ITERATIONS = 300;
const PROFILED = 100;
const SIZE = 1024;
const TARGET_RATIO = 1.5;

const HANDLER = 'initiate: API handler in process';
const REFERENCE = 'bare SDK: presign PUT + 1 PutItem';
const HTTP = 'initiate: HTTP to the local server';
const FLOOR = 'floor: presign + TransactWrite (Put + quota Update)';
const FOLDED = 'floor: presign + TransactWrite (Put + quota Update + audit Put)';

/**
 * Initiating an upload (validation, quota reservation in a transaction, metadata, presign,
 * audit event) against the least any upload service must do: sign one URL and write one item.
 */
export async function initiateUploadBench(ctx: BenchContext): Promise<BenchReport> {
  const { stack } = ctx;
  const { config } = stack.app;
  const tenant = await createBenchTenant(stack, 'initiate');
  const path = `/v1/buckets/${tenant.bucketId}/uploads`;
  let n = 0;
  const body = () => ({ filename: `report-${n++}.pdf`, contentType: 'application/pdf', size: SIZE });

  // The reference: clients built like the service's, straight on the SDK.
  const s3 = new S3Client({
    region: config.region,
    endpoint: config.s3.endpoint ?? undefined,
    forcePathStyle: config.s3.forcePathStyle,
    credentials: config.s3.credentials ?? undefined,
    requestChecksumCalculation: 'WHEN_REQUIRED',
  });
  const dynamo = new DynamoDBClient({
    region: config.region,
    endpoint: config.dynamo.endpoint ?? undefined,
    credentials: config.dynamo.credentials ?? undefined,
  });
  const presign = (key: string) =>
    getSignedUrl(
      s3,
      new PutObjectCommand({
        Bucket: config.uploadsBucket,
        Key: key,
        ContentLength: SIZE,
        ContentType: 'application/pdf',
      }),
      {
        expiresIn: config.limits.uploadUrlTtlSeconds,
        signableHeaders: new Set(['content-length', 'content-type']),
      },
    );
  // Throwaway items beside the tenant's real ones, shaped like a pending file record.
  const benchPk = `BENCH#${tenant.tenantId}`;
  const item = (sk: string, key: string): Record<string, AttributeValue> => ({
    PK: { S: benchPk },
    SK: { S: sk },
    objectKey: { S: key },
    size: { N: String(SIZE) },
    status: { S: 'pending' },
    createdAt: { S: new Date().toISOString() },
  });
  const reference = async () => {
    const i = n++;
    const key = objectKeys.file(tenant.tenantId, tenant.bucketId, `reference-${i}`);
    await presign(key);
    await dynamo.send(new PutItemCommand({ TableName: config.tableName, Item: item(`REFERENCE#${i}`, key) }));
  };
  /**
   * Not the service: the least the current design could cost (one transaction with the quota
   * reservation), and with the audit event folded into that transaction.
   */
  const floor = (withAudit: boolean) => async () => {
    const i = n++;
    const key = objectKeys.file(tenant.tenantId, tenant.bucketId, `floor-${i}`);
    await presign(key);
    await dynamo.send(
      new TransactWriteItemsCommand({
        TransactItems: [
          {
            Put: {
              TableName: config.tableName,
              Item: item(`FLOOR#${i}`, key),
              ConditionExpression: 'attribute_not_exists(PK)',
            },
          },
          {
            Update: {
              TableName: config.tableName,
              Key: { PK: { S: benchPk }, SK: { S: 'QUOTA' } },
              UpdateExpression:
                'SET reservedBytes = if_not_exists(reservedBytes, :zero) + :n, headroom = if_not_exists(headroom, :zero) - :n',
              ConditionExpression: 'attribute_not_exists(limitBytes) OR headroom >= :n',
              ExpressionAttributeValues: { ':n': { N: String(SIZE) }, ':zero': { N: '0' } },
            },
          },
          ...(withAudit ? [{ Put: { TableName: config.tableName, Item: item(`EVENT#${i}`, key) } }] : []),
        ],
      }),
    );
  };

  try {
    ctx.progress(`initiate-upload: ${WARMUP} warm-up and ${ITERATIONS} measured rounds of 5 cases`);
    const samples = await interleave(
      [
        {
          label: HANDLER,
          run: async () => expectStatus(await tenant.invoke('POST', path, body()), 201, HANDLER),
        },
        { label: REFERENCE, run: reference },
        { label: HTTP, run: async () => expectStatus(await tenant.http('POST', path, body()), 201, HTTP) },
        { label: FLOOR, run: floor(false) },
        { label: FOLDED, run: floor(true) },
      ],
      { warmup: WARMUP, iterations: ITERATIONS },
    );
    const { table, summaries } = timingTable(
      `initiate upload of a ${SIZE} B PDF, ${ITERATIONS} sequential calls per case, interleaved`,
      { label: REFERENCE, samples: samplesOf(samples, REFERENCE) },
      [
        { label: HANDLER, samples: samplesOf(samples, HANDLER) },
        { label: HTTP, samples: samplesOf(samples, HTTP) },
        { label: FLOOR, samples: samplesOf(samples, FLOOR) },
        { label: FOLDED, samples: samplesOf(samples, FOLDED) },
      ],
    );
    const handlerRatio = (summaries.get(HANDLER)?.median ?? 0) / (summaries.get(REFERENCE)?.median ?? 1);
    const httpRatio = (summaries.get(HTTP)?.median ?? 0) / (summaries.get(REFERENCE)?.median ?? 1);
    const floorRatio = (summaries.get(FLOOR)?.median ?? 0) / (summaries.get(REFERENCE)?.median ?? 1);

    ctx.progress(`initiate-upload: ${PROFILED} profiled handler calls`);
    const breakdown = await profileHandler(ctx, () => tenant.invoke('POST', path, body()));

    return {
      tables: [table, breakdown],
      headlines: [
        {
          label: 'initiate (handler) / reference',
          value: ratio(handlerRatio),
          target: `<= ${TARGET_RATIO}x`,
        },
        { label: 'initiate (HTTP) / reference', value: ratio(httpRatio) },
        { label: 'floor, one quota transaction / reference', value: ratio(floorRatio) },
      ],
      notes: [
        'reference: getSignedUrl of a PutObjectCommand (length and type signed) plus one PutItem, same servers and table.',
        'handler: bucket GetItem, TransactWriteItems (file Put + quota Update), presign, audit PutItem, middy + router + zod.',
        'floor rows are bare SDK calls, not the service: what one transaction costs, alone and with the audit Put folded in.',
      ],
    };
  } finally {
    s3.destroy();
    dynamo.destroy();
  }
}

/** Where a handler call's time goes: each port call on the path timed as it runs. */
async function profileHandler(ctx: BenchContext, call: () => Promise<ApiAnswer>): Promise<BenchTable> {
  const { metadata, deps } = ctx.stack.app;
  const steps = new Map<string, number[]>();
  const restores = [
    instrument(metadata.buckets, 'get', 'bucket lookup (GetItem)', steps),
    instrument(metadata.files, 'createPending', 'file + quota reservation (TransactWriteItems)', steps),
    instrument(deps.stores, 'forProvider', 'store lookup (forProvider)', steps),
    instrument(deps.stores.defaultStore(), 'presignPut', 'presign PUT', steps),
    instrument(metadata.events, 'record', 'audit event (PutItem)', steps),
  ];
  const totals: number[] = [];
  try {
    for (let i = 0; i < PROFILED; i++) {
      const started = performance.now();
      expectStatus(await call(), 201, 'profiled initiate');
      totals.push(performance.now() - started);
    }
  } finally {
    for (const restore of restores.reverse()) restore();
  }
  const total = summarize(totals);
  const rows: string[][] = [];
  let accounted = 0;
  for (const [label, values] of steps) {
    if (values.length === 0) continue;
    const s = summarize(values);
    accounted += s.mean * (values.length / PROFILED);
    rows.push([
      label,
      String(values.length),
      ms(s.median),
      ms(s.mean),
      `${((100 * s.mean * values.length) / PROFILED / total.mean).toFixed(0)}%`,
    ]);
  }
  const rest = total.mean - accounted;
  rows.push([
    'rest: middy, router, zod, ids, views, JSON',
    '',
    '',
    ms(rest),
    `${((100 * rest) / total.mean).toFixed(0)}%`,
  ]);
  rows.push(['whole handler call', String(total.n), ms(total.median), ms(total.mean), '100%']);
  return {
    title: `where an initiate's time goes (${PROFILED} handler calls, each step timed in place)`,
    columns: ['step', 'calls', 'median ms', 'mean ms', 'share of mean'],
    rows,
  };
}
