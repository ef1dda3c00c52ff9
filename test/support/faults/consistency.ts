import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { fileItem } from '../../../shared/adapters/dynamodb/file-item.js';
import { quotaItem } from '../../../shared/adapters/dynamodb/quota-item.js';
import { INDEX_NAMES } from '../../../shared/adapters/dynamodb/table-definition.js';
import { objectKeys, tableKeys } from '../../../shared/domain/keys.js';
import type { FileRecord } from '../../../shared/domain/model.js';
import type { Quota } from '../../../shared/domain/quota.js';
import type { FaultStack } from './fault-app.js';

/** What one tenant holds, read with clean clients straight from the table and the bucket. */
export interface TenantState {
  quota: (Quota & { headroom: number }) | null;
  files: FileRecord[];
  /** Reference items, as `{fileId} {type}#{id}`. */
  references: string[];
  /** Objects under the tenant's prefix in the uploads bucket: key → size. */
  objects: Map<string, number>;
  /** Objects under the tenant's quarantine prefix. */
  quarantined: string[];
  /** The audit event types of each file above, oldest first. */
  eventsByFile: Map<string, string[]>;
}

export interface Consistency {
  /**
   * Broken invariants, which no fault may ever cause: a lost or doubled reservation, used bytes
   * or file count off the files that count, headroom out of step, an active or deleted file
   * whose object is missing or of another size, a file whose state its audit trail does not tell
   * (the outbox: a transition and its event commit together) or tells twice.
   */
  broken: string[];
  /**
   * Leftovers a fault may leave that nothing but a consistency check (fsck) repairs: objects no
   * pending, active or deleted file owns (strays, including the object of a rejected file still
   * at its upload key), reference items of files that are gone, and references out of step with
   * their file's `refs`.
   */
  strays: string[];
}

/** The entities whose references a check reads (each scenario references only these). */
const ENTITIES = [{ entityType: 'ticket', entityId: 'T-1' }];

/**
 * Reads by key and index, not by scanning, so a check costs the same however many scenarios
 * share the table: the quota item, the tenant's files in both listing partitions (GSI2), and
 * the reference items of the entities the scenarios use (GSI1), including those of files gone.
 */
export async function readTenant(
  stack: FaultStack,
  tableName: string,
  tenantId: string,
): Promise<TenantState> {
  const query = async (index: string, pkName: string, pk: string) => {
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await stack.doc.send(
        new QueryCommand({
          TableName: tableName,
          IndexName: index,
          KeyConditionExpression: `${pkName} = :pk`,
          ExpressionAttributeValues: { ':pk': pk },
          ExclusiveStartKey: start,
        }),
      );
      items.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start);
    return items;
  };
  const [quota, live, deleted, references, objects, quarantined] = await Promise.all([
    stack.doc.send(
      new GetCommand({ TableName: tableName, Key: quotaItem.key(tenantId), ConsistentRead: true }),
    ),
    query(INDEX_NAMES.gsi2, 'GSI2PK', tableKeys.fileByTenantPk(tenantId, 'live')),
    query(INDEX_NAMES.gsi2, 'GSI2PK', tableKeys.fileByTenantPk(tenantId, 'deleted')),
    Promise.all(
      ENTITIES.map((e) =>
        query(INDEX_NAMES.gsi1, 'GSI1PK', tableKeys.entityPk(tenantId, e.entityType, e.entityId)),
      ),
    ),
    listObjects(stack, objectKeys.tenantPrefix(tenantId)),
    listObjects(stack, objectKeys.quarantinePrefix(tenantId)),
  ]);
  const files = [...live, ...deleted]
    .map((item) => fileItem.fromItem(item))
    .sort((a, b) => (a.id < b.id ? -1 : 1));
  const eventsByFile = new Map(
    await Promise.all(
      files.map(async (f) => {
        const events = await query(INDEX_NAMES.gsi1, 'GSI1PK', tableKeys.eventByFilePk(tenantId, f.id));
        return [f.id, events.map((e) => e.type as string).reverse()] as const;
      }),
    ),
  );
  return {
    quota: quota.Item
      ? { ...quotaItem.fromItem(quota.Item), headroom: Number(quota.Item.headroom ?? 0) }
      : null,
    files,
    eventsByFile,
    references: references
      .flat()
      .map((item) => `${item.fileId} ${item.entityType}#${item.entityId}`)
      .sort(),
    objects,
    quarantined: [...quarantined.keys()],
  };
}

async function listObjects(stack: FaultStack, prefix: string): Promise<Map<string, number>> {
  const objects = new Map<string, number>();
  let cursor: string | undefined;
  do {
    const page = await stack.store.list({ prefix, cursor });
    for (const object of page.objects) objects.set(object.key, object.size);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return objects;
}

/** The events a file in each status has had (each entry: one of these types). */
const STATUS_EVENTS: Record<FileRecord['status'], string[][]> = {
  pending: [['upload.initiated']],
  active: [['upload.initiated'], ['upload.completed']],
  rejected: [['upload.initiated'], ['upload.rejected', 'file.infected']],
  deleted: [['upload.initiated'], ['upload.completed'], ['file.deleted']],
};

export function consistencyOf(state: TenantState): Consistency {
  const broken: string[] = [];
  const strays: string[] = [];
  const counted = state.files.filter((f) => f.status === 'active' || f.status === 'deleted');
  const pending = state.files.filter((f) => f.status === 'pending');
  const sum = (files: FileRecord[]) => files.reduce((total, f) => total + f.size, 0);
  const quota = state.quota ?? {
    limitBytes: null,
    usedBytes: 0,
    reservedBytes: 0,
    fileCount: 0,
    headroom: 0,
  };

  if (quota.reservedBytes !== sum(pending))
    broken.push(`reservedBytes ${quota.reservedBytes} but pending files hold ${sum(pending)}`);
  if (quota.usedBytes !== sum(counted))
    broken.push(`usedBytes ${quota.usedBytes} but active and deleted files hold ${sum(counted)}`);
  if (quota.fileCount !== counted.length)
    broken.push(`fileCount ${quota.fileCount} but ${counted.length} active and deleted files`);
  const headroom = (quota.limitBytes ?? 0) - quota.usedBytes - quota.reservedBytes;
  if (state.quota && quota.headroom !== headroom)
    broken.push(`headroom ${quota.headroom} but limit − used − reserved is ${headroom}`);

  for (const file of counted) {
    const size = state.objects.get(file.objectKey);
    if (size === undefined) broken.push(`${file.status} file ${file.id} has no object`);
    else if (size !== file.size)
      broken.push(`${file.status} file ${file.id} has an object of ${size} bytes, not ${file.size}`);
  }

  for (const file of state.files) {
    const told = state.eventsByFile.get(file.id) ?? [];
    const times = (type: string) => told.filter((t) => t === type).length;
    const missing = STATUS_EVENTS[file.status].filter((types) => !types.some((t) => told.includes(t)));
    if (missing.length > 0)
      broken.push(`${file.status} file ${file.id} untold: no ${missing.map((m) => m.join('|')).join(', ')}`);
    for (const once of ['upload.initiated', 'upload.completed', 'upload.rejected'])
      if (times(once) > 1) broken.push(`file ${file.id} told ${once} ${times(once)} times`);
  }

  const owners = new Map(
    state.files.filter((f) => f.status !== 'rejected').map((f) => [f.objectKey, f] as const),
  );
  const rejected = new Set(state.files.filter((f) => f.status === 'rejected').map((f) => f.objectKey));
  for (const key of state.objects.keys())
    if (!owners.has(key))
      strays.push(rejected.has(key) ? `object of rejected file ${key}` : `stray object ${key}`);

  const byId = new Map(state.files.map((f) => [f.id, f] as const));
  const expectedRefs = new Set(
    state.files.flatMap((f) => f.references.map((r) => `${f.id} ${r.entityType}#${r.entityId}`)),
  );
  for (const ref of state.references) {
    const fileId = ref.slice(0, ref.indexOf(' '));
    if (!byId.has(fileId)) strays.push(`reference of missing file ${ref}`);
    else if (!expectedRefs.has(ref)) strays.push(`reference not in its file's refs ${ref}`);
  }
  for (const ref of expectedRefs)
    if (!state.references.includes(ref)) strays.push(`file refs without reference item ${ref}`);

  return { broken, strays: strays.sort() };
}

export async function checkTenant(stack: FaultStack, tableName: string, tenantId: string) {
  const state = await readTenant(stack, tableName, tenantId);
  return { state, ...consistencyOf(state) };
}
