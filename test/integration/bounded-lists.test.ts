import { randomBytes } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileItem } from '../../shared/adapters/dynamodb/file-item.js';
import { referenceItem } from '../../shared/adapters/dynamodb/reference-item.js';
import { objectKeys } from '../../shared/domain/keys.js';
import { MAX_ITEMS_READ_PER_LIST } from '../../shared/domain/limits.js';
import type { Actor, EntityRef, FileRecord } from '../../shared/domain/model.js';
import {
  type ApiAnswer,
  composeFaultyApp,
  createFaultStack,
  type FaultStack,
  type FaultyApp,
} from '../support/faults/fault-app.js';

/**
 * Issue 9, item 12: a viewer who may see 3 files among thousands must not make one request read
 * them all. The API handler runs in this process (so the DynamoDB items its real client reads
 * can be counted by a middleware) against DynamoDB Local; every list page of a non-admin reads
 * at most MAX_ITEMS_READ_PER_LIST items from the listing, answers what it found (often nothing)
 * with a cursor, and following the cursors yields exactly the visible files, newest first.
 */

const HIDDEN = 4_500;
/** Grants, buckets, the token's checks: the reads a list request makes besides the listing. */
const OVERHEAD = 20;
const ticket: EntityRef = { entityType: 'ticket', entityId: 'T-BIG' };

let stack: FaultStack;
let app: FaultyApp;
let reads: ReturnType<typeof countReads>;
const tenantId = `bl-${randomBytes(5).toString('hex')}`;
const admin: Actor = { tenantId, userId: 'root', roles: ['admin'] };
const viewer: Actor = { tenantId, userId: 'vera', roles: ['viewer'] };
let bucketId: string;
/** The viewer's own files, newest first: the newest and the two oldest. */
let visible: string[];

beforeAll(async () => {
  stack = await createFaultStack('bl');
  app = composeFaultyApp(stack);
  reads = countReads(app.dynamo);
  const bucket = await app.api(admin, 'POST', '/v1/buckets', { name: 'Sealed', restricted: true });
  expect(bucket.status).toBe(201);
  bucketId = bucket.body.id;
  const files = Array.from({ length: HIDDEN + 3 }, (_, i) => seededFile(i));
  // Oldest first in `files`: the viewer uploaded the two oldest and the newest, so the pages
  // between read only files the viewer may not see.
  for (const i of [0, 1, files.length - 1]) {
    (files[i] as FileRecord).uploadedBy = viewer.userId;
    // The same three carry the metadata an admin's filtered list looks for (API.md 13.3).
    (files[i] as FileRecord).metadata = { project: 'apollo' };
  }
  visible = files
    .filter((f) => f.uploadedBy === viewer.userId)
    .map((f) => f.id)
    .reverse();
  await seed(files);
}, 180_000);
afterAll(() => app?.destroy());

describe('a non-admin list reads a bounded number of items', () => {
  it('GET /v1/files: pages of a viewer read at most the budget, and the cursors reach every visible file', async () => {
    const { pages, seen } = await followAll(viewer, `/v1/files?bucketId=${bucketId}&limit=50`);
    expect(seen).toEqual(visible);
    for (const page of pages) expect(page.read).toBeLessThanOrEqual(MAX_ITEMS_READ_PER_LIST + OVERHEAD);
    // Bounded, so it took several requests; some answered nothing but a cursor.
    expect(pages.length).toBeGreaterThanOrEqual(Math.ceil(HIDDEN / MAX_ITEMS_READ_PER_LIST));
    expect(pages.some((p) => p.items === 0 && p.nextCursor !== null)).toBe(true);
    expect(pages.at(-1)?.nextCursor).toBeNull();
  });

  it('GET /v1/entities/{type}/{id}/files: the references read per page are bounded the same way', async () => {
    const path = `/v1/entities/${ticket.entityType}/${ticket.entityId}/files?limit=2`;
    const { pages, seen } = await followAll(viewer, path);
    expect(seen).toEqual(visible);
    // Each reference read is followed by one read of its file.
    for (const page of pages) expect(page.read).toBeLessThanOrEqual(2 * MAX_ITEMS_READ_PER_LIST + OVERHEAD);
    expect(pages.length).toBeGreaterThanOrEqual(Math.ceil(HIDDEN / MAX_ITEMS_READ_PER_LIST));
  });

  it('the same through GET /v1/files?entityType=&entityId=', async () => {
    const path = `/v1/files?entityType=${ticket.entityType}&entityId=${ticket.entityId}&limit=1`;
    const { pages, seen } = await followAll(viewer, path);
    expect(seen).toEqual(visible);
    for (const page of pages) expect(page.read).toBeLessThanOrEqual(2 * MAX_ITEMS_READ_PER_LIST + OVERHEAD);
  });

  it('a metadata filter bounds an admin too: 3 matches among thousands, every page within the budget', async () => {
    for (const path of [
      `/v1/files?bucketId=${bucketId}&metadata.project=apollo&limit=50`,
      `/v1/files?metadata.project=apollo&limit=50`,
      `/v1/entities/${ticket.entityType}/${ticket.entityId}/files?metadata.project=apollo&limit=50`,
    ]) {
      const { pages, seen } = await followAll(admin, path);
      expect(seen, path).toEqual(visible);
      const perPage = path.includes('/entities/') ? 2 * MAX_ITEMS_READ_PER_LIST : MAX_ITEMS_READ_PER_LIST;
      for (const page of pages) expect(page.read, path).toBeLessThanOrEqual(perPage + OVERHEAD);
      expect(pages.length, path).toBeGreaterThanOrEqual(Math.ceil(HIDDEN / MAX_ITEMS_READ_PER_LIST));
    }
  });

  it('admins still get exact pages: `limit` items while more follow', async () => {
    const { pages, seen } = await followAll(admin, `/v1/files?bucketId=${bucketId}&limit=1000`);
    expect(seen).toHaveLength(HIDDEN + 3);
    expect(pages.map((p) => p.items)).toEqual([1000, 1000, 1000, 1000, 503]);
    expect(pages.at(-1)?.nextCursor).toBeNull();
  });
});

interface PageSeen {
  items: number;
  nextCursor: string | null;
  /** DynamoDB items the request read. */
  read: number;
}

async function followAll(actor: Actor, path: string): Promise<{ pages: PageSeen[]; seen: string[] }> {
  const pages: PageSeen[] = [];
  const seen: string[] = [];
  let cursor: string | null = null;
  do {
    const url: string = cursor ? `${path}&cursor=${encodeURIComponent(cursor)}` : path;
    const before = reads.total;
    const answer: ApiAnswer = await app.api(actor, 'GET', url);
    expect(answer.status).toBe(200);
    const ids = (answer.body.items as { id: string }[]).map((f) => f.id);
    seen.push(...ids);
    cursor = answer.body.nextCursor;
    pages.push({ items: ids.length, nextCursor: cursor, read: reads.total - before });
    if (pages.length > 50) throw new Error('the cursors do not come to an end');
  } while (cursor);
  return { pages, seen };
}

/** Adds up the items each DynamoDB call read (evaluated ones for queries and scans, before filters). */
function countReads(client: DynamoDBClient) {
  const counter = { total: 0 };
  client.middlewareStack.add(
    (next) => async (args) => {
      const result = await next(args);
      const output = result.output as {
        ScannedCount?: number;
        Item?: unknown;
        Responses?: Record<string, unknown[]>;
      };
      if (typeof output.ScannedCount === 'number') counter.total += output.ScannedCount;
      else if (output.Item) counter.total += 1;
      else if (output.Responses)
        for (const items of Object.values(output.Responses)) counter.total += items.length;
      return result;
    },
    { step: 'initialize', name: 'countItemsRead' },
  );
  return counter;
}

function seededFile(i: number): FileRecord {
  const at = new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString();
  const id = `01J${String(i).padStart(23, '0')}`;
  return {
    id,
    tenantId,
    bucketId,
    providerId: 'default',
    originalName: `f${i}.txt`,
    mimeType: 'text/plain',
    declaredMimeType: 'text/plain',
    size: 1,
    sha256: null,
    status: 'active',
    rejectionReason: null,
    uploadedBy: 'someone-else',
    createdAt: at,
    updatedAt: at,
    deletedAt: null,
    uploadExpiresAt: null,
    multipart: null,
    references: [ticket],
    objectKey: objectKeys.file(tenantId, bucketId, id),
    validatedObject: null,
  };
}

/** Writes the files and their reference items straight into the table, 4 batches at a time. */
async function seed(files: FileRecord[]): Promise<void> {
  const items = files.flatMap((f) => [
    fileItem.toItem(f),
    referenceItem.toItem(tenantId, f.id, ticket, f.createdAt),
  ]);
  const batches: Record<string, unknown>[][] = [];
  for (let i = 0; i < items.length; i += 25) batches.push(items.slice(i, i + 25));
  const worker = async () => {
    for (let batch = batches.shift(); batch; batch = batches.shift()) {
      let pending = batch.map((Item) => ({ PutRequest: { Item } }));
      while (pending.length > 0) {
        const answer = await stack.doc.send(
          new BatchWriteCommand({ RequestItems: { [stack.tableName]: pending } }),
        );
        pending = (answer.UnprocessedItems?.[stack.tableName] ?? []) as typeof pending;
      }
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
}
