import * as z from 'zod';
import { METADATA_KEY_PATTERN, METADATA_LIMITS } from '../../shared/domain/file-metadata.js';
import { FILE_STATUSES } from '../../shared/domain/file-state.js';
import { ID_PATTERN, USER_ID_PATTERN } from '../../shared/domain/ids.js';
import { MALWARE_SCAN_MODES, SCAN_STATUSES } from '../../shared/domain/malware-scan.js';
import { GRANT_ACCESS } from '../../shared/domain/model.js';
import { SHARE_LINK_LIMITS } from '../../shared/domain/share-link.js';

/**
 * The request and response schemas of API.md. The router validates every request with them
 * and the OpenAPI document is generated from them, so the two cannot drift apart.
 */

export const Id = z.string().regex(ID_PATTERN, 'must be 1 to 64 characters of A-Z, a-z, 0-9, _ or -');
const UserId = z.string().regex(USER_ID_PATTERN, 'must be 1 to 128 printable ASCII characters');
const Size = z.int().min(0).max(Number.MAX_SAFE_INTEGER);
const Timestamp = z.string().meta({ format: 'date-time' });

export const EntityRef = z.strictObject({ entityType: Id, entityId: Id }).meta({ id: 'EntityRef' });

// ---- requests ----

export const CreateProviderBody = z
  .strictObject({
    type: z.literal('s3'),
    name: z.string().min(1).max(128),
    config: z.strictObject({
      bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name'),
      region: z.string().regex(/^[a-z0-9-]{1,32}$/, 'must be a region such as us-west-2'),
      endpoint: z
        .url({ protocol: /^https?$/ })
        .max(2048)
        .optional(),
      forcePathStyle: z.boolean().optional(),
    }),
    credentials: z
      .strictObject({
        accessKeyId: z.string().min(1).max(256),
        secretAccessKey: z.string().min(1).max(1024),
      })
      .optional(),
  })
  .meta({ id: 'CreateProviderRequest' });

const MimeList = z.array(z.string().max(255)).max(100);
const RetentionDays = z.int().min(0).max(3650);
/** API.md 13.6: files of a `required` bucket stay pending until the malware scanner answers. */
const MalwareScan = z.enum(MALWARE_SCAN_MODES);

export const CreateBucketBody = z
  .strictObject({
    name: z.string().min(1).max(128),
    providerId: Id.optional(),
    path: z
      .string()
      .regex(/^\/([A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*)?$/, 'must be a path such as /customer-files')
      .max(512)
      .optional(),
    allowedMimeTypes: MimeList.nullable().optional(),
    maxFileSize: Size.optional(),
    retentionDays: RetentionDays.optional(),
    restricted: z.boolean().optional(),
    deleteUnreferenced: z.boolean().optional(),
    malwareScan: MalwareScan.optional(),
  })
  .meta({ id: 'CreateBucketRequest' });

export const UpdateBucketBody = z
  .strictObject({
    name: z.string().min(1).max(128).optional(),
    allowedMimeTypes: MimeList.nullable().optional(),
    maxFileSize: Size.optional(),
    retentionDays: RetentionDays.optional(),
    restricted: z.boolean().optional(),
    deleteUnreferenced: z.boolean().optional(),
    malwareScan: MalwareScan.optional(),
  })
  .meta({ id: 'UpdateBucketRequest' });

const Sha256Hex = z.string().regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hexadecimal characters');

export const InitiateUploadBody = z
  .strictObject({
    filename: z.string().max(4096),
    contentType: z.string().max(255),
    size: Size,
    sha256: z
      .string()
      .regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hexadecimal characters')
      .optional(),
    references: z.array(EntityRef).max(50).optional(),
    multipart: z.boolean().optional(),
    /** Hex SHA-256 of the first parts: storage then verifies every part (API.md 13.2). */
    partSha256: z.array(Sha256Hex).max(100).optional(),
    uploadMethod: z.enum(['PUT', 'POST']).optional(),
  })
  .meta({ id: 'InitiateUploadRequest' });

export const PartUrlsBody = z
  .strictObject({
    partNumbers: z.array(z.int().min(1).max(10_000)).min(1).max(100),
    /** One per part number, for an upload started with part checksums. */
    partSha256: z.array(Sha256Hex).min(1).max(100).optional(),
  })
  .meta({ id: 'PartUrlsRequest' });

export const CompleteUploadBody = z
  .strictObject({
    parts: z
      .array(z.strictObject({ partNumber: z.int().min(1).max(10_000), etag: z.string().min(1).max(256) }))
      .min(1)
      .max(10_000)
      .optional(),
  })
  .meta({ id: 'CompleteUploadRequest' });

/** API.md 13.3. Names and metadata are checked by the domain rules (section 10, 13.3 limits). */
export const UpdateFileBody = z
  .strictObject({
    name: z.string().max(4096).optional(),
    metadata: z
      .record(z.string(), z.string())
      .meta({
        description: `at most ${METADATA_LIMITS.maxKeys} keys of [A-Za-z0-9_.-]{1,64}, values up to ${METADATA_LIMITS.maxValueLength} characters, ${METADATA_LIMITS.maxTotalBytes} bytes in all; replaces the old map`,
      })
      .optional(),
  })
  .meta({ id: 'UpdateFileRequest' });

export const CreateShareLinkBody = z
  .strictObject({
    expiresInSeconds: z
      .int()
      .min(SHARE_LINK_LIMITS.minExpiresInSeconds)
      .max(SHARE_LINK_LIMITS.maxExpiresInSeconds),
    maxDownloads: z.int().min(1).max(SHARE_LINK_LIMITS.maxDownloads).optional(),
  })
  .meta({ id: 'CreateShareLinkRequest' });

export const GrantBody = z.strictObject({ access: z.enum(GRANT_ACCESS) }).meta({ id: 'GrantRequest' });

export const QuotaBody = z.strictObject({ limitBytes: Size.nullable() }).meta({ id: 'SetQuotaRequest' });

const Limit = z.coerce.number().int().min(1).max(1000).optional();
const Cursor = z.string().max(4096).optional();

export const PageQuery = z.strictObject({ limit: Limit, cursor: Cursor });

export const FileStatusSchema = z.enum(FILE_STATUSES);

/** `metadata.KEY=value`, at most one per request (API.md 13.3); any other unknown name is 400. */
const METADATA_QUERY = /^metadata\.(.*)$/;
const withMetadataFilter = <S extends z.ZodRawShape>(shape: S) =>
  z
    .object(shape)
    .catchall(z.string().max(METADATA_LIMITS.maxValueLength))
    .superRefine((query, ctx) => {
      const extra = Object.keys(query).filter((name) => !Object.hasOwn(shape, name));
      for (const name of extra) {
        const key = METADATA_QUERY.exec(name)?.[1];
        if (key === undefined)
          ctx.addIssue({ code: 'custom', message: `Unknown query parameter ${name}.`, path: [name] });
        else if (!METADATA_KEY_PATTERN.test(key))
          ctx.addIssue({
            code: 'custom',
            message: 'a metadata key is 1 to 64 characters of A-Z, a-z, 0-9, _, . or -',
            path: [name],
          });
      }
      if (extra.length > 1)
        ctx.addIssue({
          code: 'custom',
          message: 'one metadata filter at a time',
          path: [extra[1] as string],
        });
    })
    .meta({ 'x-metadata-filter': true });

/** The `metadata.KEY=value` filter of a query parsed by `withMetadataFilter`, if any. */
export function metadataFilterOf(query: Record<string, unknown>): { key: string; value: string } | undefined {
  for (const [name, value] of Object.entries(query)) {
    const key = METADATA_QUERY.exec(name)?.[1];
    if (key !== undefined && typeof value === 'string') return { key, value };
  }
  return undefined;
}

export const EntityFilesQuery = withMetadataFilter({ limit: Limit, cursor: Cursor });

/** The named parameters of `GET /v1/files` (the client's type; the route adds the metadata filter). */
export const ListFilesQueryFields = z.strictObject({
  bucketId: Id.optional(),
  entityType: Id.optional(),
  entityId: Id.optional(),
  status: FileStatusSchema.optional(),
  mimeType: z.string().max(255).optional(),
  limit: Limit,
  cursor: Cursor,
});

export const ListFilesQuery = withMetadataFilter(ListFilesQueryFields.shape).refine(
  (q) => (q.entityType === undefined) === (q.entityId === undefined),
  {
    message: 'entityType and entityId go together',
    path: ['entityType'],
  },
);

export const EventsQuery = z.strictObject({
  type: z
    .string()
    .regex(/^[a-z]+(\.[a-z_]+)+$/, 'must be an event type such as upload.completed')
    .optional(),
  fileId: Id.optional(),
  limit: Limit,
  cursor: Cursor,
});

export const DownloadQuery = z.strictObject({ redirect: z.enum(['0', '1', 'true', 'false']).optional() });

export const FileIdParams = z.strictObject({ fileId: Id });
export const LinkIdParams = z.strictObject({ linkId: Id });
/** Not validated here: a malformed token is 404 like an unknown one (the public route parses it). */
export const SharedTokenParams = z.strictObject({ token: z.string() });
export const BucketIdParams = z.strictObject({ bucketId: Id });
export const ProviderIdParams = z.strictObject({ providerId: Id });
export const EntityParams = z.strictObject({ entityType: Id, entityId: Id });
export const FileEntityParams = z.strictObject({ fileId: Id, entityType: Id, entityId: Id });
export const GrantParams = z.strictObject({ entityType: Id, entityId: Id, userId: UserId });

// ---- responses ----

export const ErrorResponse = z
  .object({
    error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }),
  })
  .meta({ id: 'Error' });

export const ProviderView = z
  .object({
    id: Id,
    type: z.literal('s3'),
    name: z.string(),
    config: z.object({
      bucket: z.string(),
      region: z.string(),
      endpoint: z.string().optional(),
      forcePathStyle: z.boolean().optional(),
    }),
    hasCredentials: z.boolean(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .meta({ id: 'Provider' });

export const BucketView = z
  .object({
    id: Id,
    name: z.string(),
    providerId: Id,
    path: z.string(),
    allowedMimeTypes: z.array(z.string()).nullable(),
    maxFileSize: Size,
    retentionDays: RetentionDays,
    restricted: z.boolean(),
    deleteUnreferenced: z.boolean(),
    malwareScan: MalwareScan,
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .meta({ id: 'Bucket' });

export const FileView = z
  .object({
    id: Id,
    bucketId: Id,
    originalName: z.string(),
    mimeType: z.string(),
    size: Size,
    sha256: z.string().nullable(),
    status: FileStatusSchema,
    rejectionReason: z
      .enum([
        'FILE_TOO_LARGE',
        'SIZE_MISMATCH',
        'MIME_TYPE_NOT_ALLOWED',
        'MIME_TYPE_MISMATCH',
        'CHECKSUM_MISMATCH',
        'MALWARE_DETECTED',
        'SCAN_FAILED',
      ])
      .nullable(),
    uploadedBy: z.string(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
    deletedAt: Timestamp.nullable(),
    references: z.array(EntityRef),
    preview: z.object({ status: z.enum(['none', 'pending', 'ready', 'failed']) }),
    /** Pending while its declared sha256 is verified in the background (API.md 13.2). */
    verifying: z.boolean(),
    /**
     * API.md 13.6, only on files of a bucket with `malwareScan: required`: `pending` until the
     * scanner answers, then `clean` (active), `infected` (MALWARE_DETECTED) or `failed` (SCAN_FAILED).
     */
    scan: z.enum(SCAN_STATUSES).optional(),
    metadata: z.record(z.string(), z.string()),
  })
  .meta({ id: 'File' });

const PartUrlView = z
  .object({
    partNumber: z.int().min(1),
    url: z.string(),
    /** The exact length the URL accepts. */
    size: Size,
    /** Headers to send as given (the part's signed `x-amz-checksum-sha256`). */
    headers: z.record(z.string(), z.string()),
  })
  .meta({ id: 'PartUrl' });

export const PartUrlsView = z
  .object({ parts: z.array(PartUrlView), expiresAt: Timestamp })
  .meta({ id: 'PartUrls' });

export const UploadProgressView = z
  .object({
    uploadId: z.string(),
    partSize: Size,
    partCount: z.int().min(1),
    uploaded: z.array(z.object({ partNumber: z.int().min(1), etag: z.string(), size: Size })),
    expiresAt: Timestamp.nullable(),
  })
  .meta({ id: 'UploadProgress' });

export const UploadInstructionsView = z
  .discriminatedUnion('method', [
    z.object({
      method: z.literal('PUT'),
      url: z.string(),
      headers: z.record(z.string(), z.string()),
      expiresAt: Timestamp,
    }),
    z.object({
      method: z.literal('POST'),
      url: z.string(),
      fields: z.record(z.string(), z.string()),
      expiresAt: Timestamp,
    }),
    z.object({
      method: z.literal('MULTIPART'),
      uploadId: z.string(),
      partSize: Size,
      partCount: z.int().min(1),
      /** The first parts only when `partCount` is larger: ask `upload/parts` for the rest. */
      parts: z.array(PartUrlView),
      expiresAt: Timestamp,
    }),
  ])
  .meta({ id: 'UploadInstructions' });

export const InitiateUploadView = z
  .object({ file: FileView, upload: UploadInstructionsView })
  .meta({ id: 'Upload' });
export const DownloadView = z.object({ url: z.string(), expiresAt: Timestamp }).meta({ id: 'Download' });
export const QuotaView = z
  .object({ limitBytes: Size.nullable(), usedBytes: Size, reservedBytes: Size, fileCount: Size })
  .meta({ id: 'Quota' });
export const EventView = z
  .object({
    id: Id,
    type: z.string(),
    at: Timestamp,
    actor: z.string(),
    fileId: Id.nullable(),
    providerId: Id.nullable(),
    status: z.enum(['ok', 'error']),
    latencyMs: z.number().nullable(),
    details: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'Event' });
export const GrantView = z
  .object({
    entityType: Id,
    entityId: Id,
    userId: z.string(),
    access: z.enum(GRANT_ACCESS),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .meta({ id: 'Grant' });
export const PreviewView = z
  .object({
    url: z.string(),
    expiresAt: Timestamp,
    contentType: z.literal('image/png'),
    width: z.int().min(1),
    height: z.int().min(1),
    cached: z.boolean(),
  })
  .meta({ id: 'Preview' });
export const PreviewPendingView = z.object({ status: z.literal('pending') }).meta({ id: 'PreviewPending' });
export const PreviewMetricsView = z
  .object({
    hits: Size,
    misses: Size,
    errors: Size,
    renders: Size,
    hitRatio: z.number().min(0).max(1),
    objects: Size,
    bytes: Size,
    avgRenderMs: z.number().min(0),
  })
  .meta({ id: 'PreviewMetrics' });
const shareLinkFields = {
  id: Id,
  fileId: Id,
  expiresAt: Timestamp,
  maxDownloads: z.int().nullable(),
  downloads: Size,
  createdBy: z.string(),
  createdAt: Timestamp,
  status: z.enum(['active', 'expired', 'revoked', 'exhausted']),
  revokedAt: Timestamp.nullable(),
};
/** The creation answer, the only one that holds the link's URL (the token is stored hashed). */
export const CreatedShareLinkView = z
  .object({ ...shareLinkFields, url: z.string() })
  .meta({ id: 'CreatedShareLink' });
export const ShareLinkView = z.object(shareLinkFields).meta({ id: 'ShareLink' });
export const ShareLinkListView = z.object({ items: z.array(ShareLinkView) });

export const RemovedView = z.object({ removed: Size });
export const HealthView = z.object({ status: z.literal('ok') });

export const pageOf = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), nextCursor: z.string().nullable() });
