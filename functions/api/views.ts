import type { Bucket, FileRecord, Provider } from '../../shared/domain/model.js';

/** Domain records → the JSON of API.md. Internal fields (keys, tenant, multipart) stay inside. */

export const fileView = (f: FileRecord) => ({
  id: f.id,
  bucketId: f.bucketId,
  originalName: f.originalName,
  mimeType: f.mimeType,
  size: f.size,
  sha256: f.sha256,
  status: f.status,
  rejectionReason: f.rejectionReason,
  uploadedBy: f.uploadedBy,
  createdAt: f.createdAt,
  updatedAt: f.updatedAt,
  deletedAt: f.deletedAt,
  references: f.references.map((r) => ({ entityType: r.entityType, entityId: r.entityId })),
  preview: { status: f.previewStatus ?? 'none' },
  verifying: f.verifying === true,
});

export const providerView = (p: Provider) => ({
  id: p.id,
  type: p.type,
  name: p.name,
  config: { ...p.config },
  hasCredentials: p.hasCredentials,
  createdAt: p.createdAt,
  updatedAt: p.updatedAt,
});

export const bucketView = (b: Bucket) => ({ ...b });
