import { apiErrorFrom, StowageApiError } from './stowage-api-error.js';
import type {
  AuditEvent,
  Bucket,
  CompletedPart,
  CreateBucketRequest,
  CreatedShareLink,
  CreatedWebhook,
  CreateProviderRequest,
  CreateShareLinkRequest,
  CreateWebhookRequest,
  Download,
  EntityFilesQuery,
  FileMetadata,
  Grant,
  GrantAccess,
  InitiatedUpload,
  InitiateUploadRequest,
  ListEventsQuery,
  ListFilesQuery,
  Page,
  PageQuery,
  PartUrls,
  PartUrlsRequest,
  Preview,
  PreviewMetrics,
  PreviewPending,
  Provider,
  Quota,
  ShareLink,
  StoredParts,
  StowageFile,
  UpdateBucketRequest,
  UpdateFileRequest,
  Webhook,
  WebhookDelivery,
} from './types.js';
import { findResumableUpload, forgetResumableUpload, type UploadOptions, uploadFile } from './upload.js';

type ResumeLookup = Pick<UploadOptions, 'bucketId' | 'filename' | 'lastModified' | 'resume'>;

export interface StowageClientOptions {
  /** The API's origin, e.g. `http://127.0.0.1:3000` (no `/v1`). */
  baseUrl: string;
  /** The bearer token, asked for before every call so it can be refreshed. */
  getToken: () => string | Promise<string>;
  /**
   * Used for API calls, and for the bytes when given (tests inject faults with it). Without it,
   * bytes go through XMLHttpRequest where it exists (byte-level progress), else global fetch.
   */
  fetch?: typeof fetch;
}

export interface CallOptions {
  signal?: AbortSignal;
}

type Query = Record<string, string | number | boolean | undefined>;

const seg = encodeURIComponent;

/** `{ metadata: { KEY: value } }` becomes the wire's `metadata.KEY=value`; the rest stays. */
function withMetadataQuery<Q extends { metadata?: Record<string, string> }>(q: Q): Query {
  const { metadata, ...rest } = q;
  const query: Query = { ...(rest as Query) };
  for (const [key, value] of Object.entries(metadata ?? {})) query[`metadata.${key}`] = value;
  return query;
}

/** A typed client for every route of API.md, plus `upload()`. */
export function createStowageClient(options: StowageClientOptions) {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const fetchImpl = options.fetch ?? ((...args: Parameters<typeof fetch>) => globalThis.fetch(...args));

  async function call<T>(
    method: string,
    path: string,
    opts: { query?: Query; body?: unknown; auth?: boolean } & CallOptions = {},
  ): Promise<{ status: number; body: T; headers: Headers }> {
    const url = new URL(baseUrl + path);
    for (const [k, v] of Object.entries(opts.query ?? {}))
      if (v !== undefined && v !== '') url.searchParams.set(k, String(v));
    const headers: Record<string, string> = {};
    if (opts.auth !== false) headers.authorization = `Bearer ${await options.getToken()}`;
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetchImpl(url, {
        method,
        headers,
        body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
        signal: opts.signal,
      });
    } catch (error) {
      if (opts.signal?.aborted) throw error;
      throw new StowageApiError({
        status: 0,
        code: 'NETWORK_ERROR',
        message: 'The service could not be reached.',
        cause: error,
      });
    }
    const text = await res.text();
    if (!res.ok) throw apiErrorFrom(res.status, text);
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T, headers: res.headers };
  }
  const get = async <T>(path: string, query?: Query, o?: CallOptions) =>
    (await call<T>('GET', path, { query, ...o })).body;
  const send = async <T>(method: string, path: string, body?: unknown, o?: CallOptions) =>
    (await call<T>(method, path, { body, ...o })).body;

  const api = {
    baseUrl,
    // ---- health and description ----
    health: (o?: CallOptions) =>
      call<{ status: 'ok' }>('GET', '/v1/health', { auth: false, ...o }).then((r) => r.body),
    openApi: (o?: CallOptions) =>
      call<Record<string, unknown>>('GET', '/v1/openapi.json', { auth: false, ...o }).then((r) => r.body),

    // ---- providers ----
    createProvider: (body: CreateProviderRequest, o?: CallOptions) =>
      send<Provider>('POST', '/v1/providers', body, o),
    listProviders: (q: PageQuery = {}, o?: CallOptions) => get<Page<Provider>>('/v1/providers', q, o),
    getProvider: (id: string, o?: CallOptions) => get<Provider>(`/v1/providers/${seg(id)}`, undefined, o),
    deleteProvider: (id: string, o?: CallOptions) =>
      send<void>('DELETE', `/v1/providers/${seg(id)}`, undefined, o),

    // ---- buckets ----
    createBucket: (body: CreateBucketRequest, o?: CallOptions) =>
      send<Bucket>('POST', '/v1/buckets', body, o),
    listBuckets: (q: PageQuery = {}, o?: CallOptions) => get<Page<Bucket>>('/v1/buckets', q, o),
    getBucket: (id: string, o?: CallOptions) => get<Bucket>(`/v1/buckets/${seg(id)}`, undefined, o),
    updateBucket: (id: string, body: UpdateBucketRequest, o?: CallOptions) =>
      send<Bucket>('PATCH', `/v1/buckets/${seg(id)}`, body, o),
    deleteBucket: (id: string, o?: CallOptions) =>
      send<void>('DELETE', `/v1/buckets/${seg(id)}`, undefined, o),

    // ---- uploads ----
    initiateUpload: (bucketId: string, body: InitiateUploadRequest, o?: CallOptions) =>
      send<InitiatedUpload>('POST', `/v1/buckets/${seg(bucketId)}/uploads`, body, o),
    completeUpload: (fileId: string, parts?: CompletedPart[], o?: CallOptions) =>
      send<StowageFile>('POST', `/v1/files/${seg(fileId)}/complete`, parts ? { parts } : {}, o),
    abandonUpload: (fileId: string, o?: CallOptions) =>
      send<void>('DELETE', `/v1/files/${seg(fileId)}/upload`, undefined, o),
    /** Fresh URLs for parts of a pending multipart upload (API.md 13.2). */
    getPartUrls: (fileId: string, body: PartUrlsRequest, o?: CallOptions) =>
      send<PartUrls>('POST', `/v1/files/${seg(fileId)}/upload/parts`, body, o),
    /** The parts storage holds of a pending multipart upload (API.md 13.2). */
    getUploadProgress: (fileId: string, o?: CallOptions) =>
      get<StoredParts>(`/v1/files/${seg(fileId)}/upload`, undefined, o),

    // ---- files ----
    listFiles: (q: ListFilesQuery = {}, o?: CallOptions) =>
      get<Page<StowageFile>>('/v1/files', withMetadataQuery(q), o),
    getFile: (id: string, o?: CallOptions) => get<StowageFile>(`/v1/files/${seg(id)}`, undefined, o),
    getDownloadUrl: (id: string, o?: CallOptions) =>
      get<Download>(`/v1/files/${seg(id)}/download`, undefined, o),
    /** `PATCH /v1/files/{id}` with either field or both (API.md 13.3). */
    updateFile: (id: string, body: UpdateFileRequest, o?: CallOptions) =>
      send<StowageFile>('PATCH', `/v1/files/${seg(id)}`, body, o),
    /** The storage key stays; downloads carry the new name. */
    renameFile: (id: string, name: string, o?: CallOptions) =>
      send<StowageFile>('PATCH', `/v1/files/${seg(id)}`, { name }, o),
    /** Replaces the whole map (`{}` clears it). */
    updateMetadata: (id: string, metadata: FileMetadata, o?: CallOptions) =>
      send<StowageFile>('PATCH', `/v1/files/${seg(id)}`, { metadata }, o),
    deleteFile: (id: string, o?: CallOptions) => send<void>('DELETE', `/v1/files/${seg(id)}`, undefined, o),
    restoreFile: (id: string, o?: CallOptions) =>
      send<StowageFile>('POST', `/v1/files/${seg(id)}/restore`, {}, o),

    // ---- share links (API.md 13.4) ----
    /** The answer holds the link's `url`, shown only here: the service keeps the token hashed. */
    createShareLink: (fileId: string, body: CreateShareLinkRequest, o?: CallOptions) =>
      send<CreatedShareLink>('POST', `/v1/files/${seg(fileId)}/links`, body, o),
    listShareLinks: (fileId: string, o?: CallOptions) =>
      get<{ items: ShareLink[] }>(`/v1/files/${seg(fileId)}/links`, undefined, o).then((r) => r.items),
    revokeShareLink: (linkId: string, o?: CallOptions) =>
      send<void>('DELETE', `/v1/links/${seg(linkId)}`, undefined, o),

    // ---- webhooks (API.md 13.5, admin) ----
    createWebhook: (body: CreateWebhookRequest, o?: CallOptions) =>
      send<CreatedWebhook>('POST', '/v1/webhooks', body, o),
    listWebhooks: (o?: CallOptions) => get<Page<Webhook>>('/v1/webhooks', undefined, o).then((r) => r.items),
    deleteWebhook: (id: string, o?: CallOptions) =>
      send<void>('DELETE', `/v1/webhooks/${seg(id)}`, undefined, o),
    listWebhookDeliveries: (id: string, q: PageQuery = {}, o?: CallOptions) =>
      get<Page<WebhookDelivery>>(`/v1/webhooks/${seg(id)}/deliveries`, q, o),

    // ---- references, entities and grants ----
    addReference: (fileId: string, entityType: string, entityId: string, o?: CallOptions) =>
      send<void>(
        'PUT',
        `/v1/files/${seg(fileId)}/references/${seg(entityType)}/${seg(entityId)}`,
        undefined,
        o,
      ),
    removeReference: (fileId: string, entityType: string, entityId: string, o?: CallOptions) =>
      send<void>(
        'DELETE',
        `/v1/files/${seg(fileId)}/references/${seg(entityType)}/${seg(entityId)}`,
        undefined,
        o,
      ),
    listEntityFiles: (entityType: string, entityId: string, q: EntityFilesQuery = {}, o?: CallOptions) =>
      get<Page<StowageFile>>(
        `/v1/entities/${seg(entityType)}/${seg(entityId)}/files`,
        withMetadataQuery(q),
        o,
      ),
    deleteEntity: (entityType: string, entityId: string, o?: CallOptions) =>
      send<{ removed: number }>('DELETE', `/v1/entities/${seg(entityType)}/${seg(entityId)}`, undefined, o),
    listGrants: (entityType: string, entityId: string, q: PageQuery = {}, o?: CallOptions) =>
      get<Page<Grant>>(`/v1/entities/${seg(entityType)}/${seg(entityId)}/grants`, q, o),
    setGrant: (entityType: string, entityId: string, userId: string, access: GrantAccess, o?: CallOptions) =>
      send<void>(
        'PUT',
        `/v1/entities/${seg(entityType)}/${seg(entityId)}/grants/${seg(userId)}`,
        { access },
        o,
      ),
    removeGrant: (entityType: string, entityId: string, userId: string, o?: CallOptions) =>
      send<void>(
        'DELETE',
        `/v1/entities/${seg(entityType)}/${seg(entityId)}/grants/${seg(userId)}`,
        undefined,
        o,
      ),

    // ---- previews ----
    /** The preview, or `{ status: 'pending', retryAfterSeconds }` while it renders (202). */
    getPreview: async (id: string, o?: CallOptions): Promise<Preview | PreviewPending> => {
      const res = await call<Preview | { status: 'pending' }>('GET', `/v1/files/${seg(id)}/preview`, o);
      if (res.status === 202)
        return { status: 'pending', retryAfterSeconds: Number(res.headers.get('retry-after') ?? 1) || 1 };
      return res.body as Preview;
    },
    deletePreview: (id: string, o?: CallOptions) =>
      send<void>('DELETE', `/v1/files/${seg(id)}/preview`, undefined, o),
    getPreviewMetrics: (o?: CallOptions) => get<PreviewMetrics>('/v1/previews/metrics', undefined, o),
    purgePreviews: (o?: CallOptions) => send<void>('DELETE', '/v1/previews', undefined, o),

    // ---- quota and audit ----
    getQuota: (o?: CallOptions) => get<Quota>('/v1/quota', undefined, o),
    setQuota: (limitBytes: number | null, o?: CallOptions) =>
      send<Quota>('PUT', '/v1/quota', { limitBytes }, o),
    listEvents: (q: ListEventsQuery = {}, o?: CallOptions) => get<Page<AuditEvent>>('/v1/events', q, o),

    /** Initiates, sends the bytes as instructed, completes: the final file, active or rejected. */
    upload: (file: Blob, opts: UploadOptions) => uploadFile(api, file, opts, { fetch: options.fetch }),
    /** The remembered, interrupted upload of this file, if any (same name, size, date, first part). */
    findResumableUpload: (file: Blob, opts: ResumeLookup) => findResumableUpload(file, opts),
    /** "Start over": abandons the remembered upload of this file and forgets it. */
    forgetResumableUpload: (file: Blob, opts: ResumeLookup) => forgetResumableUpload(api, file, opts),
  };
  return api;
}

export type StowageClient = ReturnType<typeof createStowageClient>;
