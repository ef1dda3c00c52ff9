import type { Bucket, FileRecord, Provider } from '../../shared/domain/model.js';
import type { ShareLink, ShareLinkState } from '../../shared/domain/share-link.js';

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
  // API.md 13.6: only on files of a bucket that scans; absent elsewhere.
  ...(f.scan ? { scan: f.scan } : {}),
  metadata: { ...(f.metadata ?? {}) },
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

export const bucketView = (b: Bucket) => ({ ...b, malwareScan: b.malwareScan ?? 'off' });

/** A share link without its hash; the URL only where the token is at hand (its creation). */
export const shareLinkView = (l: ShareLink, state: ShareLinkState) => ({
  id: l.id,
  fileId: l.fileId,
  expiresAt: l.expiresAt,
  maxDownloads: l.maxDownloads,
  downloads: l.downloads,
  createdBy: l.createdBy,
  createdAt: l.createdAt,
  status: state,
  revokedAt: l.revokedAt,
});
