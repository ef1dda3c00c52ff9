import type { z } from 'zod';
import { runAsTenant } from '../../shared/adapters/tenant-scope/tenant-context.js';
import { notFound, validationFailed } from '../../shared/domain/errors.js';
import { normalizeMimePattern } from '../../shared/domain/mime.js';
import { shareTokenTenant } from '../../shared/services/share-token.js';
import { errorAnswer, json, noContent, type Route, route } from './route.js';
import * as s from './schemas.js';
import { bucketView, fileView, providerView, shareLinkView } from './views.js';
import { webhookRoutes } from './webhook-routes.js';

const page = (q: { limit?: number; cursor?: string }) => ({ limit: q.limit ?? 50, cursor: q.cursor });
const pageBody = <T, V>(p: { items: T[]; nextCursor: string | null }, view: (item: T) => V) => ({
  items: p.items.map(view),
  nextCursor: p.nextCursor,
});
const err = errorAnswer;
const common = {
  400: err('Malformed input (VALIDATION_FAILED)'),
  401: err('Missing or invalid token (UNAUTHENTICATED)'),
  403: err('The role or grants do not allow this (FORBIDDEN)'),
};
const ok = (schema: z.ZodType, description = 'OK') => ({ 200: { description, schema } });
const with404 = { ...common, 404: err('No such resource in the caller tenant (NOT_FOUND)') };

/** Every route of API.md, in its order. */
export const routes: Route[] = [
  route({
    method: 'GET',
    path: '/v1/health',
    operationId: 'getHealth',
    summary: 'Liveness check',
    role: 'public',
    responses: ok(s.HealthView),
    handle: async () => json(200, { status: 'ok' }),
  }),
  // GET /v1/openapi.json is added by the router itself: it describes this list.

  // ---- providers ----
  route({
    method: 'POST',
    path: '/v1/providers',
    operationId: 'createProvider',
    summary: 'Add a storage provider; credentials go to the secret store and are never returned',
    role: 'admin',
    body: s.CreateProviderBody,
    responses: { 201: { description: 'Created', schema: s.ProviderView }, ...with404 },
    handle: async ({ actor, body }, svc) => json(201, providerView(await svc.providers.create(actor, body))),
  }),
  route({
    method: 'GET',
    path: '/v1/providers',
    operationId: 'listProviders',
    summary: 'List providers, default first',
    role: 'admin',
    query: s.PageQuery,
    responses: { ...ok(s.pageOf(s.ProviderView)), ...common },
    handle: async ({ actor, query }, svc) =>
      json(200, pageBody(await svc.providers.list(actor, page(query)), providerView)),
  }),
  route({
    method: 'GET',
    path: '/v1/providers/{providerId}',
    operationId: 'getProvider',
    summary: 'Get a provider',
    role: 'admin',
    params: s.ProviderIdParams,
    responses: { ...ok(s.ProviderView), ...with404 },
    handle: async ({ actor, params }, svc) =>
      json(200, providerView(await svc.providers.get(actor, params.providerId))),
  }),
  route({
    method: 'DELETE',
    path: '/v1/providers/{providerId}',
    operationId: 'deleteProvider',
    summary: 'Delete a provider no bucket uses',
    role: 'admin',
    params: s.ProviderIdParams,
    responses: { 204: { description: 'Deleted' }, ...with404, 409: err('In use, or the default provider') },
    handle: async ({ actor, params }, svc) => {
      await svc.providers.delete(actor, params.providerId);
      return noContent();
    },
  }),

  // ---- buckets ----
  route({
    method: 'POST',
    path: '/v1/buckets',
    operationId: 'createBucket',
    summary: 'Create a bucket with its rules',
    role: 'admin',
    body: s.CreateBucketBody,
    responses: { 201: { description: 'Created', schema: s.BucketView }, ...with404, 409: err('Name taken') },
    handle: async ({ actor, body }, svc) => json(201, bucketView(await svc.buckets.create(actor, body))),
  }),
  route({
    method: 'GET',
    path: '/v1/buckets',
    operationId: 'listBuckets',
    summary: 'List buckets',
    role: 'viewer',
    query: s.PageQuery,
    responses: { ...ok(s.pageOf(s.BucketView)), ...common },
    handle: async ({ actor, query }, svc) =>
      json(200, pageBody(await svc.buckets.list(actor, page(query)), bucketView)),
  }),
  route({
    method: 'GET',
    path: '/v1/buckets/{bucketId}',
    operationId: 'getBucket',
    summary: 'Get a bucket',
    role: 'viewer',
    params: s.BucketIdParams,
    responses: { ...ok(s.BucketView), ...with404 },
    handle: async ({ actor, params }, svc) =>
      json(200, bucketView(await svc.buckets.get(actor, params.bucketId))),
  }),
  route({
    method: 'PATCH',
    path: '/v1/buckets/{bucketId}',
    operationId: 'updateBucket',
    summary: 'Change a bucket name or rules',
    role: 'admin',
    params: s.BucketIdParams,
    body: s.UpdateBucketBody,
    responses: { ...ok(s.BucketView), ...with404, 409: err('Name taken') },
    handle: async ({ actor, params, body }, svc) =>
      json(200, bucketView(await svc.buckets.update(actor, params.bucketId, body))),
  }),
  route({
    method: 'DELETE',
    path: '/v1/buckets/{bucketId}',
    operationId: 'deleteBucket',
    summary: 'Delete a bucket that holds no pending, active or deleted files',
    role: 'admin',
    params: s.BucketIdParams,
    responses: { 204: { description: 'Deleted' }, ...with404, 409: err('The bucket holds files') },
    handle: async ({ actor, params }, svc) => {
      await svc.buckets.delete(actor, params.bucketId);
      return noContent();
    },
  }),

  // ---- uploads ----
  route({
    method: 'POST',
    path: '/v1/buckets/{bucketId}/uploads',
    operationId: 'initiateUpload',
    summary: 'Ask for upload instructions (presigned PUT, POST or multipart)',
    role: 'member',
    params: s.BucketIdParams,
    body: s.InitiateUploadBody,
    responses: {
      201: { description: 'Pending file and upload instructions', schema: s.InitiateUploadView },
      ...with404,
      413: err('FILE_TOO_LARGE'),
      415: err('MIME_TYPE_NOT_ALLOWED'),
      507: err('QUOTA_EXCEEDED'),
    },
    handle: async ({ actor, params, body }, svc) => {
      const { file, upload } = await svc.uploads.initiate(actor, params.bucketId, body);
      return json(201, { file: fileView(file), upload });
    },
  }),
  route({
    method: 'POST',
    path: '/v1/files/{fileId}/complete',
    operationId: 'completeUpload',
    summary: 'Validate what arrived: the file becomes active or rejected',
    role: 'member',
    params: s.FileIdParams,
    body: s.CompleteUploadBody,
    responses: { ...ok(s.FileView), ...with404, 409: err('The bytes have not arrived') },
    handle: async ({ actor, params, body }, svc) =>
      json(200, fileView(await svc.uploads.complete(actor, params.fileId, body?.parts))),
  }),
  route({
    method: 'POST',
    path: '/v1/files/{fileId}/upload/parts',
    operationId: 'getPartUrls',
    summary: 'Fresh URLs for parts of a pending multipart upload',
    role: 'member',
    params: s.FileIdParams,
    body: s.PartUrlsBody,
    responses: { ...ok(s.PartUrlsView), ...with404, 409: err('Not a pending multipart upload') },
    handle: async ({ actor, params, body }, svc) =>
      json(200, await svc.uploads.partUrls(actor, params.fileId, body)),
  }),
  route({
    method: 'GET',
    path: '/v1/files/{fileId}/upload',
    operationId: 'getUploadProgress',
    summary: 'The parts storage holds of a pending multipart upload, to resume it',
    role: 'member',
    params: s.FileIdParams,
    responses: { ...ok(s.UploadProgressView), ...with404, 409: err('Not a pending multipart upload') },
    handle: async ({ actor, params }, svc) => json(200, await svc.uploads.progress(actor, params.fileId)),
  }),
  route({
    method: 'DELETE',
    path: '/v1/files/{fileId}/upload',
    operationId: 'abandonUpload',
    summary: 'Abandon a pending upload and release its reservation',
    role: 'member',
    params: s.FileIdParams,
    responses: { 204: { description: 'Abandoned' }, ...with404, 409: err('Not pending') },
    handle: async ({ actor, params }, svc) => {
      await svc.uploads.abandon(actor, params.fileId);
      return noContent();
    },
  }),

  // ---- files ----
  route({
    method: 'GET',
    path: '/v1/files',
    operationId: 'listFiles',
    summary:
      'List the files the caller may see, newest first; metadata.KEY=value filters by one metadata key',
    role: 'viewer',
    query: s.ListFilesQuery,
    responses: { ...ok(s.pageOf(s.FileView)), ...common },
    handle: async ({ actor, query }, svc) => {
      const result = await svc.files.list(actor, {
        ...page(query),
        bucketId: query.bucketId,
        status: query.status,
        mimeType: query.mimeType === undefined ? undefined : mimeFilter(query.mimeType),
        metadata: s.metadataFilterOf(query),
        entity:
          query.entityType && query.entityId
            ? { entityType: query.entityType, entityId: query.entityId }
            : undefined,
      });
      return json(200, pageBody(result, fileView));
    },
  }),
  route({
    method: 'GET',
    path: '/v1/files/{fileId}',
    operationId: 'getFile',
    summary: 'Get a file in any status',
    role: 'viewer',
    params: s.FileIdParams,
    responses: { ...ok(s.FileView), ...with404 },
    handle: async ({ actor, params }, svc) => json(200, fileView(await svc.files.get(actor, params.fileId))),
  }),
  route({
    method: 'GET',
    path: '/v1/files/{fileId}/download',
    operationId: 'downloadFile',
    summary: 'A short-lived download URL; ?redirect=1 answers 302',
    role: 'viewer',
    params: s.FileIdParams,
    query: s.DownloadQuery,
    responses: {
      ...ok(s.DownloadView),
      302: { description: 'Redirect to the download URL' },
      ...with404,
      409: err('Pending or rejected'),
    },
    handle: async ({ actor, params, query }, svc) => {
      const download = await svc.files.download(actor, params.fileId);
      if (query.redirect === '1' || query.redirect === 'true')
        return { status: 302, headers: { location: download.url, 'cache-control': 'no-store' } };
      return json(200, download);
    },
  }),
  route({
    method: 'PATCH',
    path: '/v1/files/{fileId}',
    operationId: 'updateFile',
    summary: 'Rename a file and/or replace its metadata (uploader, admin or a write grant)',
    role: 'member',
    params: s.FileIdParams,
    body: s.UpdateFileBody,
    responses: { ...ok(s.FileView), ...with404, 409: err('Deleted or rejected file') },
    handle: async ({ actor, params, body }, svc) =>
      json(200, fileView(await svc.files.update(actor, params.fileId, body))),
  }),
  route({
    method: 'DELETE',
    path: '/v1/files/{fileId}',
    operationId: 'deleteFile',
    summary: 'Soft-delete an active file (a rejected one goes at once)',
    role: 'member',
    params: s.FileIdParams,
    responses: { 204: { description: 'Deleted' }, ...with404, 409: err('Pending') },
    handle: async ({ actor, params }, svc) => {
      await svc.files.delete(actor, params.fileId);
      return noContent();
    },
  }),
  route({
    method: 'POST',
    path: '/v1/files/{fileId}/restore',
    operationId: 'restoreFile',
    summary: 'Restore a soft-deleted file before it is purged',
    role: 'member',
    params: s.FileIdParams,
    responses: { ...ok(s.FileView), ...with404, 409: err('Not deleted') },
    handle: async ({ actor, params }, svc) =>
      json(200, fileView(await svc.files.restore(actor, params.fileId))),
  }),

  // ---- share links (API.md 13.4) ----
  route({
    method: 'POST',
    path: '/v1/files/{fileId}/links',
    operationId: 'createShareLink',
    summary: 'A link anyone may download the file through, until it expires, runs out or is revoked',
    role: 'viewer',
    params: s.FileIdParams,
    body: s.CreateShareLinkBody,
    responses: {
      201: { description: 'Created; the only answer that holds the URL', schema: s.CreatedShareLinkView },
      ...with404,
      409: err('The file is not active'),
    },
    handle: async ({ actor, params, body, origin }, svc) => {
      const { link, token } = await svc.links.create(actor, params.fileId, body);
      return json(201, {
        ...shareLinkView(link, 'active'),
        url: `${origin}/v1/shared/${encodeURIComponent(token)}`,
      });
    },
  }),
  route({
    method: 'GET',
    path: '/v1/files/{fileId}/links',
    operationId: 'listShareLinks',
    summary: 'The file share links, newest first (without their URLs: tokens are stored hashed)',
    role: 'viewer',
    params: s.FileIdParams,
    responses: { ...ok(s.ShareLinkListView), ...with404 },
    handle: async ({ actor, params }, svc) =>
      json(200, {
        items: (await svc.links.list(actor, params.fileId)).map((v) => shareLinkView(v.link, v.state)),
      }),
  }),
  route({
    method: 'DELETE',
    path: '/v1/links/{linkId}',
    operationId: 'revokeShareLink',
    summary: 'Revoke a share link (its creator or an admin)',
    role: 'viewer',
    params: s.LinkIdParams,
    responses: { 204: { description: 'Revoked' }, ...with404 },
    handle: async ({ actor, params }, svc) => {
      await svc.links.revoke(actor, params.linkId);
      return noContent();
    },
  }),
  route({
    method: 'GET',
    path: '/v1/shared/{token}',
    operationId: 'openShareLink',
    summary: 'Public: 302 to a short-lived download of the shared file',
    role: 'public',
    params: s.SharedTokenParams,
    responses: {
      302: { description: 'Redirect to a presigned download with the file Content-Disposition' },
      404: err('Unknown token (NOT_FOUND)'),
      410: err('Expired, revoked, out of downloads, or the file was deleted (GONE)'),
      429: err('Too many requests from this address (RATE_LIMITED)'),
    },
    handle: async ({ params }, svc) => {
      const token = String((params as { token?: unknown }).token ?? '');
      const tenantId = shareTokenTenant(token);
      if (!tenantId) throw notFound('The link');
      // The token names its tenant: the download runs with that tenant's scope, like any request.
      const download = await runAsTenant(tenantId, () => svc.links.open(token));
      return {
        status: 302,
        headers: { location: download.url, 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' },
      };
    },
  }),

  // ---- webhooks (API.md 13.5) ----
  ...webhookRoutes,

  // ---- references, entities, grants ----
  route({
    method: 'PUT',
    path: '/v1/files/{fileId}/references/{entityType}/{entityId}',
    operationId: 'addReference',
    summary: 'Reference a file from an entity (idempotent)',
    role: 'member',
    params: s.FileEntityParams,
    responses: { 204: { description: 'Referenced' }, ...with404, 409: err('Deleted or rejected file') },
    handle: async ({ actor, params }, svc) => {
      await svc.references.add(actor, params.fileId, params);
      return noContent();
    },
  }),
  route({
    method: 'DELETE',
    path: '/v1/files/{fileId}/references/{entityType}/{entityId}',
    operationId: 'removeReference',
    summary: 'Remove a reference (idempotent)',
    role: 'member',
    params: s.FileEntityParams,
    responses: { 204: { description: 'Removed' }, ...with404 },
    handle: async ({ actor, params }, svc) => {
      await svc.references.remove(actor, params.fileId, params);
      return noContent();
    },
  }),
  route({
    method: 'GET',
    path: '/v1/entities/{entityType}/{entityId}/files',
    operationId: 'listEntityFiles',
    summary: 'Files referenced by an entity, newest first',
    role: 'viewer',
    params: s.EntityParams,
    query: s.EntityFilesQuery,
    responses: { ...ok(s.pageOf(s.FileView)), ...common },
    handle: async ({ actor, params, query }, svc) =>
      json(
        200,
        pageBody(
          await svc.references.listEntityFiles(actor, params, page(query), s.metadataFilterOf(query)),
          fileView,
        ),
      ),
  }),
  route({
    method: 'DELETE',
    path: '/v1/entities/{entityType}/{entityId}',
    operationId: 'deleteEntity',
    summary: 'The host app deleted an entity: drop its references and grants',
    role: 'member',
    params: s.EntityParams,
    responses: { ...ok(s.RemovedView), ...common },
    handle: async ({ actor, params }, svc) => json(200, await svc.references.deleteEntity(actor, params)),
  }),
  route({
    method: 'GET',
    path: '/v1/entities/{entityType}/{entityId}/grants',
    operationId: 'listGrants',
    summary: 'Grants on an entity',
    role: 'admin',
    params: s.EntityParams,
    query: s.PageQuery,
    responses: { ...ok(s.pageOf(s.GrantView)), ...common },
    handle: async ({ actor, params, query }, svc) =>
      json(
        200,
        pageBody(await svc.references.listGrants(actor, params, page(query)), (g) => g),
      ),
  }),
  route({
    method: 'PUT',
    path: '/v1/entities/{entityType}/{entityId}/grants/{userId}',
    operationId: 'setGrant',
    summary: 'Give a user read or write access through an entity',
    role: 'admin',
    params: s.GrantParams,
    body: s.GrantBody,
    responses: { 204: { description: 'Set' }, ...common },
    handle: async ({ actor, params, body }, svc) => {
      await svc.references.setGrant(actor, params, params.userId, body.access);
      return noContent();
    },
  }),
  route({
    method: 'DELETE',
    path: '/v1/entities/{entityType}/{entityId}/grants/{userId}',
    operationId: 'removeGrant',
    summary: 'Remove a grant',
    role: 'admin',
    params: s.GrantParams,
    responses: { 204: { description: 'Removed' }, ...common },
    handle: async ({ actor, params }, svc) => {
      await svc.references.removeGrant(actor, params, params.userId);
      return noContent();
    },
  }),

  // ---- previews ----
  route({
    method: 'GET',
    path: '/v1/files/{fileId}/preview',
    operationId: 'getPreview',
    summary: 'A PNG preview (first page of a PDF, thumbnail of an image), rendered now or cached',
    role: 'viewer',
    params: s.FileIdParams,
    responses: {
      ...ok(s.PreviewView),
      202: { description: 'Rendering; ask again after Retry-After seconds', schema: s.PreviewPendingView },
      ...with404,
      409: err('Pending or rejected file'),
      415: err('PREVIEW_NOT_SUPPORTED'),
      422: err('PREVIEW_FAILED, with details.reason'),
    },
    handle: async ({ actor, params }, svc) => {
      const preview = await svc.previews.get(actor, params.fileId);
      if (preview.status === 'pending')
        return json(
          202,
          { status: 'pending' },
          { 'retry-after': String(preview.retryAfterSeconds), 'cache-control': 'no-store' },
        );
      const { status: _ready, ...body } = preview;
      return json(200, body);
    },
  }),
  route({
    method: 'DELETE',
    path: '/v1/files/{fileId}/preview',
    operationId: 'deletePreview',
    summary: 'Drop a file preview from the cache (a failed one may then be tried again)',
    role: 'member',
    params: s.FileIdParams,
    responses: { 204: { description: 'Dropped' }, ...with404 },
    handle: async ({ actor, params }, svc) => {
      await svc.previews.delete(actor, params.fileId);
      return noContent();
    },
  }),
  route({
    method: 'GET',
    path: '/v1/previews/metrics',
    operationId: 'getPreviewMetrics',
    summary: 'The tenant preview cache counters',
    role: 'admin',
    responses: { ...ok(s.PreviewMetricsView), ...common },
    handle: async ({ actor }, svc) => json(200, await svc.previews.metrics(actor)),
  }),
  route({
    method: 'DELETE',
    path: '/v1/previews',
    operationId: 'purgePreviews',
    summary: 'Purge the tenant preview cache (the counters stay)',
    role: 'admin',
    responses: { 204: { description: 'Purged' }, ...common },
    handle: async ({ actor }, svc) => {
      await svc.previews.purge(actor);
      return noContent();
    },
  }),

  // ---- quota and audit ----
  route({
    method: 'GET',
    path: '/v1/quota',
    operationId: 'getQuota',
    summary: 'The tenant quota and its use',
    role: 'viewer',
    responses: { ...ok(s.QuotaView), ...common },
    handle: async ({ actor }, svc) => json(200, await svc.quota.get(actor)),
  }),
  route({
    method: 'PUT',
    path: '/v1/quota',
    operationId: 'setQuota',
    summary: 'Set the tenant byte limit (null: unlimited)',
    role: 'admin',
    body: s.QuotaBody,
    responses: { ...ok(s.QuotaView), ...common },
    handle: async ({ actor, body }, svc) => json(200, await svc.quota.setLimit(actor, body.limitBytes)),
  }),
  route({
    method: 'GET',
    path: '/v1/events',
    operationId: 'listEvents',
    summary: 'The tenant audit trail, newest first',
    role: 'admin',
    query: s.EventsQuery,
    responses: { ...ok(s.pageOf(s.EventView)), ...common },
    handle: async ({ actor, query }, svc) =>
      json(200, await svc.quota.events(actor, { type: query.type, fileId: query.fileId }, page(query))),
  }),
];

function mimeFilter(raw: string): string {
  try {
    return normalizeMimePattern(raw);
  } catch {
    throw validationFailed('mimeType must be a media type or a type/* wildcard.');
  }
}
