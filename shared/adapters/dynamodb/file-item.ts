import type { FileStatus, RejectionReason } from '../../domain/file-state.js';
import { partitionOf } from '../../domain/file-state.js';
import { type FilePartition, tableKeys } from '../../domain/keys.js';
import { SCAN_STATUSES, type ScanStatus } from '../../domain/malware-scan.js';
import type {
  EntityRef,
  FileRecord,
  MultipartState,
  PreviewStatus,
  ValidatedObject,
} from '../../domain/model.js';
import type { TableKey } from './batch.js';
import { itemReader } from './item-reader.js';
import type { Item } from './table-context.js';

const STATUSES: readonly FileStatus[] = ['pending', 'active', 'rejected', 'deleted'];
const PREVIEW_STATUSES: readonly PreviewStatus[] = ['pending', 'ready', 'failed'];

/**
 * The file item: the whole FileRecord as attributes plus its index keys. GSI1 (per bucket) and
 * GSI2 (per tenant) list it newest first inside its lifecycle partition; GSI3 holds it only
 * while the sweep has work to do with it (pending: by upload expiry; deleted: by deletion).
 * References are denormalised as the string set `refs` (`{type}#{id}`: ids cannot hold `#`).
 */
export const fileItem = {
  key: (tenantId: string, fileId: string): TableKey => ({
    PK: tableKeys.filePk(tenantId, fileId),
    SK: tableKeys.fileSk,
  }),

  /** GSI1 and GSI2 keys of the file in a lifecycle partition. */
  listingKeys(
    file: Pick<FileRecord, 'tenantId' | 'bucketId' | 'id' | 'createdAt'>,
    partition: FilePartition,
  ) {
    const sortKey = tableKeys.fileSortKey(file.createdAt, file.id);
    return {
      GSI1PK: tableKeys.fileByBucketPk(file.tenantId, file.bucketId, partition),
      GSI1SK: sortKey,
      GSI2PK: tableKeys.fileByTenantPk(file.tenantId, partition),
      GSI2SK: sortKey,
    };
  },

  /** GSI3 keys, ordered by the time the sweep may act; the id keeps them unique. */
  sweepKeys(tenantId: string, fileId: string, kind: 'pending' | 'deleted', at: string) {
    return { GSI3PK: tableKeys.sweepPk(tenantId, kind), GSI3SK: tableKeys.fileSortKey(at, fileId) };
  },

  toItem(file: FileRecord): Item {
    const sweep =
      file.status === 'pending'
        ? fileItem.sweepKeys(file.tenantId, file.id, 'pending', file.uploadExpiresAt ?? file.createdAt)
        : file.status === 'deleted'
          ? fileItem.sweepKeys(file.tenantId, file.id, 'deleted', file.deletedAt ?? file.updatedAt)
          : {};
    const refs = fileItem.refSet(file.references);
    return {
      ...fileItem.key(file.tenantId, file.id),
      ...fileItem.listingKeys(file, partitionOf(file.status)),
      ...sweep,
      entity: 'file',
      id: file.id,
      tenantId: file.tenantId,
      bucketId: file.bucketId,
      providerId: file.providerId,
      originalName: file.originalName,
      mimeType: file.mimeType,
      declaredMimeType: file.declaredMimeType,
      ...(file.declaredCharset ? { declaredCharset: file.declaredCharset } : {}),
      size: file.size,
      sha256: file.sha256,
      status: file.status,
      rejectionReason: file.rejectionReason,
      uploadedBy: file.uploadedBy,
      createdAt: file.createdAt,
      updatedAt: file.updatedAt,
      deletedAt: file.deletedAt,
      uploadExpiresAt: file.uploadExpiresAt,
      multipart: file.multipart ? { ...file.multipart } : null,
      objectKey: file.objectKey,
      validatedObject: file.validatedObject ? { ...file.validatedObject } : null,
      ...(file.verifying ? { verifying: true } : {}),
      // `scan` is a DynamoDB reserved word.
      ...(file.scan ? { scanStatus: file.scan } : {}),
      metadata: { ...(file.metadata ?? {}) },
      // DynamoDB stores no empty sets: no references means no attribute.
      ...(refs.size > 0 ? { refs } : {}),
    };
  },

  fromItem(item: Item): FileRecord {
    const read = itemReader(item);
    const status = read.string('status') as FileStatus;
    if (!STATUSES.includes(status)) {
      throw new TypeError(`File ${read.string('id')} has unknown status ${status}.`);
    }
    return {
      id: read.string('id'),
      tenantId: read.string('tenantId'),
      bucketId: read.string('bucketId'),
      providerId: read.string('providerId'),
      originalName: read.string('originalName'),
      mimeType: read.string('mimeType'),
      declaredMimeType: read.string('declaredMimeType'),
      ...(typeof item.declaredCharset === 'string' ? { declaredCharset: item.declaredCharset } : {}),
      size: read.number('size'),
      sha256: read.stringOrNull('sha256'),
      status,
      rejectionReason: read.stringOrNull('rejectionReason') as RejectionReason | null,
      uploadedBy: read.string('uploadedBy'),
      createdAt: read.string('createdAt'),
      updatedAt: read.string('updatedAt'),
      deletedAt: read.stringOrNull('deletedAt'),
      uploadExpiresAt: read.stringOrNull('uploadExpiresAt'),
      multipart: read.isNull('multipart') ? null : multipartFrom(read.map('multipart')),
      references: read.stringSet('refs').map(refFromString).sort(compareRefs),
      objectKey: read.string('objectKey'),
      // Absent on items written before validation recorded the object.
      validatedObject: read.isNull('validatedObject')
        ? null
        : validatedObjectFrom(read.map('validatedObject')),
      ...(item.verifying === true && status === 'pending' ? { verifying: true } : {}),
      ...(SCAN_STATUSES.includes(item.scanStatus as ScanStatus)
        ? { scan: item.scanStatus as ScanStatus }
        : {}),
      metadata: metadataFrom(item.metadata),
      // Written by the preview repository, only once a preview is asked for or rendered.
      ...(PREVIEW_STATUSES.includes(item.previewStatus as PreviewStatus)
        ? { previewStatus: item.previewStatus as PreviewStatus }
        : {}),
    };
  },

  refSet: (refs: readonly EntityRef[]) => new Set(refs.map((ref) => `${ref.entityType}#${ref.entityId}`)),
};

/** A string map; absent on items written before metadata existed. */
function metadataFrom(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!value || typeof value !== 'object') return out;
  for (const [key, v] of Object.entries(value)) if (typeof v === 'string') out[key] = v;
  return out;
}

function multipartFrom(map: Record<string, unknown>): MultipartState {
  const read = itemReader(map);
  return {
    uploadId: read.string('uploadId'),
    partSize: read.number('partSize'),
    partCount: read.number('partCount'),
    ...(map.partChecksums === true ? { partChecksums: true } : {}),
  };
}

function validatedObjectFrom(map: Record<string, unknown>): ValidatedObject {
  const read = itemReader(map);
  return { etag: read.stringOrNull('etag'), versionId: read.stringOrNull('versionId') };
}

function refFromString(value: string): EntityRef {
  const at = value.indexOf('#');
  return { entityType: value.slice(0, at), entityId: value.slice(at + 1) };
}

const compareRefs = (a: EntityRef, b: EntityRef) =>
  a.entityType === b.entityType
    ? a.entityId < b.entityId
      ? -1
      : a.entityId > b.entityId
        ? 1
        : 0
    : a.entityType < b.entityType
      ? -1
      : 1;
