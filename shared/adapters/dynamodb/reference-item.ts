import { tableKeys } from '../../domain/keys.js';
import type { EntityRef } from '../../domain/model.js';
import type { TableKey } from './batch.js';
import type { Item } from './table-context.js';

/**
 * A reference lives in the file's partition (so a file's references go with it) and, through
 * GSI1, in the entity's partition, sorted by file id: ULIDs, so newest file last.
 */
export const referenceItem = {
  key: (tenantId: string, fileId: string, ref: EntityRef): TableKey => ({
    PK: tableKeys.filePk(tenantId, fileId),
    SK: tableKeys.referenceSk(ref.entityType, ref.entityId),
  }),

  toItem: (tenantId: string, fileId: string, ref: EntityRef, at: string): Item => ({
    ...referenceItem.key(tenantId, fileId, ref),
    GSI1PK: tableKeys.entityPk(tenantId, ref.entityType, ref.entityId),
    GSI1SK: tableKeys.referenceByEntitySk(fileId),
    entity: 'reference',
    fileId,
    entityType: ref.entityType,
    entityId: ref.entityId,
    createdAt: at,
  }),
};
