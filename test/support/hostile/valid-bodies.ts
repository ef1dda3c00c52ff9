import { inject } from 'vitest';

/**
 * A valid body for each request schema (by its OpenAPI id), with every optional field
 * present, so each field can be broken on its own. `n` keeps names unique. A schema missing
 * here makes the coverage test fail, so a new body schema cannot go unattacked.
 */
export const VALID_BODIES: Record<string, (n: number) => Record<string, unknown>> = {
  CreateProviderRequest: (n) => ({
    type: 's3',
    name: `provider ${n}`,
    config: {
      bucket: 'hostile-bucket',
      region: 'us-east-1',
      // The one plain-http loopback origin the test stack allow-lists (API.md section 13.7).
      endpoint: inject('s3Endpoint'),
      forcePathStyle: true,
    },
    credentials: { accessKeyId: 'AKIAHOSTILE', secretAccessKey: 'not-a-secret' },
  }),
  CreateBucketRequest: (n) => ({
    name: `bucket ${n}`,
    providerId: 'default',
    path: '/hostile/path',
    allowedMimeTypes: ['text/plain', 'image/*'],
    maxFileSize: 1000,
    retentionDays: 1,
    restricted: false,
    deleteUnreferenced: false,
    // `off`: valid whether or not the stack has a scanner (clamd may be missing locally).
    malwareScan: 'off',
  }),
  UpdateBucketRequest: (n) => ({
    name: `renamed ${n}`,
    allowedMimeTypes: ['text/*', 'image/png', 'application/pdf'],
    maxFileSize: 1_000_000,
    retentionDays: 30,
    restricted: false,
    deleteUnreferenced: false,
    malwareScan: 'off',
  }),
  InitiateUploadRequest: (n) => ({
    filename: `upload ${n}.txt`,
    contentType: 'text/plain',
    // The smallest multipart upload, so that partSha256 (multipart only) is valid too.
    size: 8 * 1024 * 1024,
    sha256: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    references: [{ entityType: 'ticket', entityId: 'T-1' }],
    multipart: true,
    partSha256: ['ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
    uploadMethod: 'PUT',
  }),
  CompleteUploadRequest: () => ({ parts: [{ partNumber: 1, etag: '"0123"' }] }),
  PartUrlsRequest: () => ({
    partNumbers: [1],
    partSha256: ['ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
  }),
  UpdateFileRequest: (n) => ({
    name: `renamed ${n}.txt`,
    metadata: { project: `p-${n}`, 'cost.center': 'x-1' },
  }),
  CreateShareLinkRequest: () => ({ expiresInSeconds: 600, maxDownloads: 5 }),
  // The webhook receiver's origin is the test stack's allow-listed loopback (API.md 13.5, 13.7).
  CreateWebhookRequest: (n) => ({
    url: `${inject('webhookReceiver')}/hooks/hostile-${n}`,
    events: ['file.activated', 'file.deleted'],
  }),
  GrantRequest: () => ({ access: 'read' }),
  SetQuotaRequest: () => ({ limitBytes: null }),
};

export const validBody = (schemaId: string | null, n: number): Record<string, unknown> =>
  (schemaId && VALID_BODIES[schemaId]?.(n)) || {};
