import type { components, operations } from './api-types.js';

/**
 * The API's types under the names the client uses, taken from ./api-types.ts: generated from the
 * OpenAPI document the service serves (`npm run generate:client`), so they follow the zod schemas
 * that validate requests, and the package imports nothing outside itself.
 */
type Schemas = components['schemas'];
type QueryOf<K extends keyof operations> = NonNullable<operations[K]['parameters']['query']>;

export type StowageFile = Schemas['File'];
export type FileStatus = StowageFile['status'];
export type RejectionReason = NonNullable<StowageFile['rejectionReason']>;
export type EntityRef = Schemas['EntityRef'];
export type Bucket = Schemas['Bucket'];
export type Provider = Schemas['Provider'];
export type Quota = Schemas['Quota'];
export type AuditEvent = Schemas['Event'];
export type Grant = Schemas['Grant'];
export type Preview = Schemas['Preview'];
export type PreviewMetrics = Schemas['PreviewMetrics'];
export type Download = Schemas['Download'];
export type UploadInstructions = Schemas['UploadInstructions'];
export type InitiatedUpload = Schemas['Upload'];
export type ShareLink = Schemas['ShareLink'];
export type CreatedShareLink = Schemas['CreatedShareLink'];
export type CreateShareLinkRequest = Schemas['CreateShareLinkRequest'];
export type Webhook = Schemas['Webhook'];
export type CreatedWebhook = Schemas['CreatedWebhook'];
export type WebhookDelivery = Schemas['WebhookDelivery'];
export type CreateWebhookRequest = Schemas['CreateWebhookRequest'];
export type ApiErrorBody = Schemas['Error'];

export type CreateProviderRequest = Schemas['CreateProviderRequest'];
export type CreateBucketRequest = Schemas['CreateBucketRequest'];
export type UpdateBucketRequest = Schemas['UpdateBucketRequest'];
export type InitiateUploadRequest = Schemas['InitiateUploadRequest'];
export type CompleteUploadRequest = Schemas['CompleteUploadRequest'];
export type CompletedPart = NonNullable<CompleteUploadRequest['parts']>[number];
export type GrantAccess = Schemas['GrantRequest']['access'];

// Queries are typed by their parsed form: `limit` is a number here, a string on the wire.
export type PageQuery = QueryOf<'listProviders'>;
/** `metadata: { KEY: value }` (one key) is sent as `metadata.KEY=value` (API.md 13.3). */
export type ListFilesQuery = QueryOf<'listFiles'>;
export type EntityFilesQuery = QueryOf<'listEntityFiles'>;
export type UpdateFileRequest = Schemas['UpdateFileRequest'];
export type FileMetadata = StowageFile['metadata'];
export type ListEventsQuery = QueryOf<'listEvents'>;

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** `GET /v1/files/{id}/preview` answers 202 while the preview renders. */
export interface PreviewPending {
  status: 'pending';
  /** From the `Retry-After` header. */
  retryAfterSeconds: number;
}

/** One part's URL, bound to its exact length, with the headers to send (its signed checksum). */
export type PartUrl = Schemas['PartUrl'];
/** `POST /v1/files/{id}/upload/parts`. */
export type PartUrls = Schemas['PartUrls'];
export type PartUrlsRequest = Schemas['PartUrlsRequest'];
/** `GET /v1/files/{id}/upload`: what storage holds of a pending multipart upload. */
export type StoredParts = Schemas['UploadProgress'];
