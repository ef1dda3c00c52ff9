import { DeleteCommand, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { FileStatus } from '../../domain/file-state.js';
import { tableKeys } from '../../domain/keys.js';
import type { AuditEvent, EntityRef, FileRecord } from '../../domain/model.js';
import {
  AlreadyExistsError,
  type FileListQuery,
  type FileRepository,
  NotFoundError,
  QuotaExceededError,
} from '../../ports/repositories.js';
import { batchGet } from './batch.js';
import { bucketCounter } from './bucket-counter.js';
import { transactionApplied, writeApplied } from './conditional-write.js';
import { eventItem } from './event-repository.js';
import { fileItem } from './file-item.js';
import { quotaItem } from './quota-item.js';
import { readPage } from './read-page.js';
import { referenceItem } from './reference-item.js';
import { cancellationReasons, conditionFailedAt, isConditionalCheckFailed } from './sdk-errors.js';
import type { TableContext } from './table-context.js';
import { INDEX_NAMES } from './table-definition.js';
import {
  type TransactDelete,
  type TransactItems,
  type TransactUpdate,
  transactWrite,
} from './transact-write.js';

interface FileChange {
  expression: string;
  values: Record<string, unknown>;
}

/**
 * Files and their lifecycle. Every transition is conditional on the status it leaves and, when
 * it moves bytes, one transaction with its quota change: a duplicate storage event or a second
 * `complete` fails the condition, answers false and counts nothing twice.
 */
export function createFileRepository(ctx: TableContext): FileRepository {
  const { tableName } = ctx;
  /** The file's change, conditional on the status it leaves. */
  const fileUpdate = (file: FileRecord, from: FileStatus, change: FileChange): TransactUpdate => ({
    TableName: tableName,
    Key: fileItem.key(file.tenantId, file.id),
    UpdateExpression: change.expression,
    ConditionExpression: '#status = :from',
    ExpressionAttributeNames: { '#status': 'status' },
    ExpressionAttributeValues: { ':from': from, ...change.values },
  });
  const fileDelete = (file: FileRecord, from: FileStatus): TransactDelete => ({
    TableName: tableName,
    Key: fileItem.key(file.tenantId, file.id),
    ConditionExpression: '#status = :from',
    ExpressionAttributeNames: { '#status': 'status' },
    ExpressionAttributeValues: { ':from': from },
  });

  /**
   * The outbox: a transition's audit event is one more action of its transaction, so the change
   * and the event that tells of it (and its webhooks, through the table's stream) commit together.
   */
  const withEvent = (file: FileRecord, items: TransactItems, event: AuditEvent | undefined): TransactItems =>
    event ? [...items, { Put: eventItem.put(tableName, file.tenantId, event) }] : items;
  const announced = (file: FileRecord, event: AuditEvent | undefined, applied: boolean): boolean => {
    if (applied && event) ctx.onEventWritten?.(file.tenantId, event);
    return applied;
  };

  /** A transaction whose first action is the file's; false when the file's condition failed. */
  const transition = async (file: FileRecord, items: TransactItems, event?: AuditEvent) =>
    announced(file, event, await transactionApplied(ctx, withEvent(file, items, event), 0));
  const conditional = writeApplied;

  /** One conditional write, or with an event, a transaction of the write and its event. */
  const single = async (
    file: FileRecord,
    action: { Update: TransactUpdate } | { Delete: TransactDelete },
    event: AuditEvent | undefined,
  ): Promise<boolean> => {
    if (event) return transition(file, [action], event);
    return conditional(
      ctx.client.send(
        'Update' in action ? new UpdateCommand(action.Update) : new DeleteCommand(action.Delete),
      ),
    );
  };

  /**
   * A transition that takes the file out of its bucket for good (`[file, quota]` plus the
   * bucket's count). A bucket deleted before it counted files is gone: the file moves without it.
   */
  const leaving = async (file: FileRecord, items: TransactItems, event?: AuditEvent): Promise<boolean> => {
    const withCount = [...items, { Update: bucketCounter.leave(tableName, file.tenantId, file.bucketId) }];
    try {
      return await transition(file, withCount, event);
    } catch (error) {
      const reasons = cancellationReasons(error);
      if (!reasons || !conditionFailedAt(reasons, withCount.length - 1)) throw error;
      return transition(file, items, event);
    }
  };

  /**
   * A pending file lives on until `until` (never shortened): its record and its place in the
   * sweep index move together, conditional on it still being pending.
   */
  const pendingUntil = (file: FileRecord, until: string, mark: 'extend' | 'verifying' | 'scanning') => {
    const sweep = fileItem.sweepKeys(file.tenantId, file.id, 'pending', until);
    const set = {
      extend: '',
      verifying: ', verifying = :true',
      // The sha256 (if any) is settled by now: the scan is the last open question.
      scanning: ', scanStatus = :scan REMOVE verifying',
    }[mark];
    return conditional(
      ctx.client.send(
        new UpdateCommand({
          TableName: tableName,
          Key: fileItem.key(file.tenantId, file.id),
          UpdateExpression: `SET uploadExpiresAt = :until, GSI3SK = :sk${set}`,
          // A verification or scan window replaces the expiry; an extension only ever moves it later.
          ConditionExpression:
            mark !== 'extend'
              ? '#status = :pending'
              : '#status = :pending AND (attribute_not_exists(uploadExpiresAt) OR uploadExpiresAt < :until)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':until': until,
            ':sk': sweep.GSI3SK,
            ':pending': 'pending',
            ...(mark === 'verifying' ? { ':true': true } : {}),
            ...(mark === 'scanning' ? { ':scan': 'pending' } : {}),
          },
        }),
      ),
    );
  };

  return {
    async createPending(file, event) {
      if (file.status !== 'pending') {
        throw new Error(`createPending needs a pending file, got ${file.status}.`);
      }
      const items: TransactItems = [
        {
          Put: {
            TableName: tableName,
            Item: fileItem.toItem(file),
            ConditionExpression: 'attribute_not_exists(PK)',
          },
        },
        { Update: quotaItem.reserve(tableName, file.tenantId, file.size) },
        { Update: bucketCounter.enter(tableName, file.tenantId, file.bucketId) },
        ...uniqueRefs(file.references).map((ref) => ({
          Put: {
            TableName: tableName,
            Item: referenceItem.toItem(file.tenantId, file.id, ref, file.createdAt),
          },
        })),
      ];
      try {
        await transactWrite(ctx, withEvent(file, items, event));
        announced(file, event, true);
      } catch (error) {
        const reasons = cancellationReasons(error);
        if (reasons && conditionFailedAt(reasons, 1)) {
          throw new QuotaExceededError(quotaItem.fromRawItem(reasons[1]?.item));
        }
        if (reasons && conditionFailedAt(reasons, 0)) {
          throw new AlreadyExistsError(`File ${file.id} already exists.`, { cause: error });
        }
        if (reasons && conditionFailedAt(reasons, 2)) {
          throw new NotFoundError(`Bucket ${file.bucketId} was not found.`, { cause: error });
        }
        throw error;
      }
    },

    async get(tenantId, fileId) {
      const { Item } = await ctx.client.send(
        new GetCommand({ TableName: tableName, Key: fileItem.key(tenantId, fileId), ConsistentRead: true }),
      );
      return Item ? fileItem.fromItem(Item) : null;
    },

    list(query, page, accept) {
      return readPage(ctx, listSource(query), page, fileItem.fromItem, accept);
    },

    async getMany(tenantId, fileIds) {
      const items = await batchGet(
        ctx,
        fileIds.map((id) => fileItem.key(tenantId, id)),
      );
      const byId = new Map(items.map((item) => [item.id as string, fileItem.fromItem(item)]));
      return fileIds.flatMap((id) => {
        const file = byId.get(id);
        return file ? [file] : [];
      });
    },

    async bucketHasFiles(tenantId, bucketId) {
      // Rejected files stay in the live partition but do not keep a bucket alive.
      const someLive = await readPage(
        ctx,
        listSource({ tenantId, bucketId, partition: 'live' }, 'NOT #status = :rejected', {
          ':rejected': 'rejected',
        }),
        { limit: 1 },
        (item) => item,
      );
      if (someLive.items.length > 0) return true;
      const someDeleted = await readPage(
        ctx,
        listSource({ tenantId, bucketId, partition: 'deleted' }),
        { limit: 1 },
        (item) => item,
      );
      return someDeleted.items.length > 0;
    },

    activate(file, changes, event) {
      return transition(
        file,
        [
          {
            Update: fileUpdate(file, 'pending', {
              // Leaving pending also leaves the sweep index.
              expression:
                'SET #status = :to, mimeType = :mimeType, sha256 = :sha256, validatedObject = :object, ' +
                `updatedAt = :at${changes.scan ? ', scanStatus = :scan' : ''} REMOVE GSI3PK, GSI3SK, verifying`,
              values: {
                ...(changes.scan ? { ':scan': changes.scan } : {}),
                ':to': 'active',
                ':mimeType': changes.mimeType,
                ':sha256': changes.sha256,
                ':object': {
                  etag: changes.validatedObject.etag,
                  versionId: changes.validatedObject.versionId,
                },
                ':at': changes.at,
              },
            }),
          },
          { Update: quotaItem.commit(tableName, file.tenantId, file.size) },
        ],
        event,
      );
    },

    reject(file, reason, at, scan, event) {
      // A rejected file stays listed for a while, but no longer keeps its bucket.
      return leaving(
        file,
        [
          {
            Update: fileUpdate(file, 'pending', {
              expression: `SET #status = :to, rejectionReason = :reason, updatedAt = :at${scan ? ', scanStatus = :scan' : ''} REMOVE GSI3PK, GSI3SK, verifying`,
              values: { ':to': 'rejected', ':reason': reason, ':at': at, ...(scan ? { ':scan': scan } : {}) },
            }),
          },
          { Update: quotaItem.release(tableName, file.tenantId, file.size) },
        ],
        event,
      );
    },

    abandon(file, event) {
      return leaving(
        file,
        [
          { Delete: fileDelete(file, 'pending') },
          { Update: quotaItem.release(tableName, file.tenantId, file.size) },
        ],
        event,
      );
    },

    softDelete(file, at, event) {
      // Its bytes stay counted until purge, so no quota change: a single conditional update.
      const listing = fileItem.listingKeys(file, 'deleted');
      const sweep = fileItem.sweepKeys(file.tenantId, file.id, 'deleted', at);
      const change = fileUpdate(file, 'active', {
        expression:
          'SET #status = :to, deletedAt = :at, updatedAt = :at, ' +
          'GSI1PK = :gsi1pk, GSI2PK = :gsi2pk, GSI3PK = :gsi3pk, GSI3SK = :gsi3sk',
        values: {
          ':to': 'deleted',
          ':at': at,
          ':gsi1pk': listing.GSI1PK,
          ':gsi2pk': listing.GSI2PK,
          ':gsi3pk': sweep.GSI3PK,
          ':gsi3sk': sweep.GSI3SK,
        },
      });
      return single(file, { Update: change }, event);
    },

    restore(file, at, event) {
      const listing = fileItem.listingKeys(file, 'live');
      const change = fileUpdate(file, 'deleted', {
        expression:
          'SET #status = :to, deletedAt = :null, updatedAt = :at, GSI1PK = :gsi1pk, GSI2PK = :gsi2pk ' +
          'REMOVE GSI3PK, GSI3SK',
        values: {
          ':to': 'active',
          ':null': null,
          ':at': at,
          ':gsi1pk': listing.GSI1PK,
          ':gsi2pk': listing.GSI2PK,
        },
      });
      return single(file, { Update: change }, event);
    },

    purge(file, event) {
      return leaving(
        file,
        [
          { Delete: fileDelete(file, 'deleted') },
          { Update: quotaItem.free(tableName, file.tenantId, file.size) },
        ],
        event,
      );
    },

    removeRejected(file, event) {
      // Its reservation was released when it was rejected: nothing to count.
      return single(file, { Delete: fileDelete(file, 'rejected') }, event);
    },

    async update(file, changes, statuses, event) {
      const sets = ['updatedAt = :at'];
      const values: Record<string, unknown> = { ':at': changes.at };
      if (changes.originalName !== undefined) {
        sets.push('originalName = :name');
        values[':name'] = changes.originalName;
      }
      if (changes.metadata !== undefined) {
        sets.push('metadata = :metadata');
        values[':metadata'] = { ...changes.metadata };
      }
      const allowed = statuses.map((_, i) => `:s${i}`);
      statuses.forEach((status, i) => {
        values[`:s${i}`] = status;
      });
      const change: TransactUpdate = {
        TableName: tableName,
        Key: fileItem.key(file.tenantId, file.id),
        UpdateExpression: `SET ${sets.join(', ')}`,
        ConditionExpression: `attribute_exists(PK) AND #status IN (${allowed.join(', ')})`,
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: values,
      };
      if (event) {
        // A transaction answers no attributes: the record as read, with the change applied.
        if (!(await transition(file, [{ Update: change }], event))) return null;
        return {
          ...file,
          ...(changes.originalName === undefined ? {} : { originalName: changes.originalName }),
          ...(changes.metadata === undefined ? {} : { metadata: { ...changes.metadata } }),
          updatedAt: changes.at,
        };
      }
      try {
        const { Attributes } = await ctx.client.send(
          new UpdateCommand({ ...change, ReturnValues: 'ALL_NEW' }),
        );
        return Attributes ? fileItem.fromItem(Attributes) : null;
      } catch (error) {
        if (isConditionalCheckFailed(error)) return null;
        throw error;
      }
    },

    async setMultipart(file, multipart) {
      try {
        await ctx.client.send(
          new UpdateCommand({
            TableName: tableName,
            Key: fileItem.key(file.tenantId, file.id),
            UpdateExpression: 'SET multipart = :multipart',
            ConditionExpression: 'attribute_exists(PK)',
            ExpressionAttributeValues: { ':multipart': { ...multipart } },
          }),
        );
      } catch (error) {
        if (isConditionalCheckFailed(error)) {
          throw new NotFoundError(`File ${file.id} was not found.`, { cause: error });
        }
        throw error;
      }
    },

    extendUpload(file, until) {
      return pendingUntil(file, until, 'extend');
    },

    markVerifying(file, until) {
      return pendingUntil(file, until, 'verifying');
    },

    markScanning(file, until) {
      return pendingUntil(file, until, 'scanning');
    },

    /**
     * The only Scan: over the sparse GSI3, which holds nothing but the sweep's work (pending and
     * deleted files), across tenants. A scan has no order, so each page is sorted oldest first.
     */
    async listSweepable(kind, before, page) {
      const result = await readPage(
        ctx,
        {
          fingerprint: JSON.stringify(['sweep', kind, before]),
          keyAttributes: ['PK', 'SK', 'GSI3PK', 'GSI3SK'],
          scan: {
            IndexName: INDEX_NAMES.gsi3,
            // GSI3SK is `{time}#{fileId}`: anything at `before` or later sorts after `before` itself.
            FilterExpression: '#status = :kind AND GSI3SK < :before',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: { ':kind': kind, ':before': before },
          },
        },
        page,
        (item) => ({ file: fileItem.fromItem(item), sortKey: item.GSI3SK as string }),
      );
      return {
        items: result.items.sort((a, b) => (a.sortKey < b.sortKey ? -1 : 1)).map((entry) => entry.file),
        nextCursor: result.nextCursor,
      };
    },
  };
}

/** The index query behind a file listing: per bucket on GSI1, tenant-wide on GSI2, newest first. */
function listSource(query: FileListQuery, extraFilter?: string, extraValues?: Record<string, unknown>) {
  const { tenantId, bucketId, partition, status, mimeType, metadata } = query;
  const byBucket = bucketId !== undefined;
  const pk = byBucket
    ? tableKeys.fileByBucketPk(tenantId, bucketId, partition)
    : tableKeys.fileByTenantPk(tenantId, partition);
  const [pkName, skName] = byBucket ? ['GSI1PK', 'GSI1SK'] : ['GSI2PK', 'GSI2SK'];

  const filters: string[] = [];
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = { ':pk': pk, ...extraValues };
  if (status !== undefined) {
    filters.push('#status = :status');
    values[':status'] = status;
  }
  if (mimeType !== undefined) {
    const wildcard = mimeType.endsWith('/*');
    filters.push(wildcard ? 'begins_with(mimeType, :mimeType)' : 'mimeType = :mimeType');
    values[':mimeType'] = wildcard ? mimeType.slice(0, -1) : mimeType;
  }
  if (metadata !== undefined) {
    // Keys may hold `.` and `-`: always through a name placeholder, never in the expression.
    filters.push('metadata.#metadataKey = :metadataValue');
    names['#metadataKey'] = metadata.key;
    values[':metadataValue'] = metadata.value;
  }
  if (extraFilter) filters.push(extraFilter);
  if (filters.some((filter) => filter.includes('#status'))) names['#status'] = 'status';

  return {
    fingerprint: JSON.stringify([
      'files',
      tenantId,
      bucketId ?? null,
      partition,
      status ?? null,
      mimeType ?? null,
      // Only when given, so cursors of unfiltered listings stay valid across this change.
      ...(metadata ? [['metadata', metadata.key, metadata.value]] : []),
    ]),
    keyAttributes: ['PK', 'SK', pkName, skName] as string[],
    fixed: { [pkName]: pk } as Record<string, string>,
    query: {
      IndexName: byBucket ? INDEX_NAMES.gsi1 : INDEX_NAMES.gsi2,
      KeyConditionExpression: `${pkName} = :pk`,
      ScanIndexForward: false,
      ...(filters.length > 0 ? { FilterExpression: filters.join(' AND ') } : {}),
      ...(Object.keys(names).length > 0 ? { ExpressionAttributeNames: names } : {}),
      ExpressionAttributeValues: values,
    },
  };
}

/** A transaction may not write the same reference item twice. */
function uniqueRefs(refs: readonly EntityRef[]): EntityRef[] {
  const byKey = new Map(refs.map((ref) => [JSON.stringify([ref.entityType, ref.entityId]), ref]));
  return [...byKey.values()];
}
