import type { z } from 'zod';
import type * as s from '../../functions/api/schemas.js';
import type * as w from '../../functions/api/webhook-routes.js';

/**
 * The API's types, inferred from the same zod schemas that validate requests and generate the
 * OpenAPI document. Type-only imports: no zod code reaches the browser bundle.
 */
export type StowageFile = z.infer<typeof s.FileView>;
export type FileStatus = StowageFile['status'];
export type RejectionReason = NonNullable<StowageFile['rejectionReason']>;
export type EntityRef = z.infer<typeof s.EntityRef>;
export type Bucket = z.infer<typeof s.BucketView>;
export type Provider = z.infer<typeof s.ProviderView>;
export type Quota = z.infer<typeof s.QuotaView>;
export type AuditEvent = z.infer<typeof s.EventView>;
export type Grant = z.infer<typeof s.GrantView>;
export type Preview = z.infer<typeof s.PreviewView>;
export type PreviewMetrics = z.infer<typeof s.PreviewMetricsView>;
export type Download = z.infer<typeof s.DownloadView>;
export type UploadInstructions = z.infer<typeof s.UploadInstructionsView>;
export type InitiatedUpload = z.infer<typeof s.InitiateUploadView>;
export type ShareLink = z.infer<typeof s.ShareLinkView>;
export type CreatedShareLink = z.infer<typeof s.CreatedShareLinkView>;
export type CreateShareLinkRequest = z.input<typeof s.CreateShareLinkBody>;
export type Webhook = z.infer<typeof w.WebhookView>;
export type CreatedWebhook = z.infer<typeof w.CreatedWebhookView>;
export type WebhookDelivery = z.infer<typeof w.DeliveryView>;
export type CreateWebhookRequest = z.input<typeof w.CreateWebhookBody>;
export type ApiErrorBody = z.infer<typeof s.ErrorResponse>;

export type CreateProviderRequest = z.input<typeof s.CreateProviderBody>;
export type CreateBucketRequest = z.input<typeof s.CreateBucketBody>;
export type UpdateBucketRequest = z.input<typeof s.UpdateBucketBody>;
export type InitiateUploadRequest = z.input<typeof s.InitiateUploadBody>;
export type CompleteUploadRequest = z.input<typeof s.CompleteUploadBody>;
export type CompletedPart = NonNullable<CompleteUploadRequest['parts']>[number];
export type GrantAccess = z.input<typeof s.GrantBody>['access'];

// Queries are typed by their parsed form: `limit` is a number here, a string on the wire.
export type PageQuery = z.output<typeof s.PageQuery>;
/** `metadata: { KEY: value }` (one key) is sent as `metadata.KEY=value` (API.md 13.3). */
export type ListFilesQuery = z.output<typeof s.ListFilesQueryFields> & { metadata?: Record<string, string> };
export type EntityFilesQuery = PageQuery & { metadata?: Record<string, string> };
export type UpdateFileRequest = z.input<typeof s.UpdateFileBody>;
export type FileMetadata = StowageFile['metadata'];
export type ListEventsQuery = z.output<typeof s.EventsQuery>;

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
export type PartUrl = z.infer<typeof s.PartUrlsView>['parts'][number];
/** `POST /v1/files/{id}/upload/parts`. */
export type PartUrls = z.infer<typeof s.PartUrlsView>;
export type PartUrlsRequest = z.input<typeof s.PartUrlsBody>;
/** `GET /v1/files/{id}/upload`: what storage holds of a pending multipart upload. */
export type StoredParts = z.infer<typeof s.UploadProgressView>;
