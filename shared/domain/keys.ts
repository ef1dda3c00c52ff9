/**
 * Every storage key, in DynamoDB and in object stores, is built here and only here. Each one
 * starts with the tenant, so isolation can be enforced below the code (IAM LeadingKeys on
 * `T#{t}` and `T#{t}#*`, S3 prefixes `tenants/{t}/`). Ids are `[A-Za-z0-9_-]`, so no id can
 * reach into another tenant's prefix; user ids are encoded because they may hold any
 * printable character.
 */

const tenant = (t: string) => `T#${t}`;
const encodeUser = (userId: string) => encodeURIComponent(userId);

export const tableKeys = {
  tenantPk: (t: string) => tenant(t),
  providerSk: (providerId: string) => `PROVIDER#${providerId}`,
  providerSkPrefix: 'PROVIDER#',
  bucketSk: (bucketId: string) => `BUCKET#${bucketId}`,
  bucketSkPrefix: 'BUCKET#',
  bucketNameSk: (name: string) => `BUCKETNAME#${name.normalize('NFC').toLowerCase()}`,
  quotaSk: 'QUOTA',

  filePk: (t: string, fileId: string) => `${tenant(t)}#F#${fileId}`,
  fileSk: 'FILE',
  /** GSI1: one bucket's files, by lifecycle partition, newest last (query backwards). */
  fileByBucketPk: (t: string, bucketId: string, partition: FilePartition) =>
    `${tenant(t)}#B#${bucketId}#${partition}`,
  /** GSI2: all of a tenant's files, by lifecycle partition. */
  fileByTenantPk: (t: string, partition: FilePartition) => `${tenant(t)}#FILES#${partition}`,
  fileSortKey: (createdAt: string, fileId: string) => `${createdAt}#${fileId}`,
  /**
   * GSI3, sparse: pending uploads by expiry and deleted files by deletion time. The maintenance
   * sweep (never a request path) scans this index, which holds only the work it has to do.
   */
  sweepPk: (t: string, kind: 'pending' | 'deleted') => `${tenant(t)}#SWEEP#${kind}`,

  referenceSk: (entityType: string, entityId: string) => `REF#${entityType}#${entityId}`,
  referenceSkPrefix: 'REF#',
  entityPk: (t: string, entityType: string, entityId: string) => `${tenant(t)}#E#${entityType}#${entityId}`,
  referenceByEntitySk: (fileId: string) => `F#${fileId}`,

  grantSk: (userId: string) => `GRANT#${encodeUser(userId)}`,
  grantSkPrefix: 'GRANT#',
  userPk: (t: string, userId: string) => `${tenant(t)}#U#${encodeUser(userId)}`,
  grantByUserSk: (entityType: string, entityId: string) => `E#${entityType}#${entityId}`,

  /**
   * Share links (API.md 13.4). The link lives under its token's hash, so opening a link is one
   * GetItem; `LINKID` items point from a link id to that hash; GSI1 lists a file's links.
   */
  shareLinkPk: (t: string, tokenHash: string) => `${tenant(t)}#LT#${tokenHash}`,
  shareLinkSk: 'LINK',
  shareLinkIdPk: (t: string, linkId: string) => `${tenant(t)}#L#${linkId}`,
  shareLinkIdSk: 'LINKID',
  shareLinksByFilePk: (t: string, fileId: string) => `${tenant(t)}#F#${fileId}#LINKS`,

  eventPk: (t: string) => `${tenant(t)}#EV`,
  eventByFilePk: (t: string, fileId: string) => `${tenant(t)}#F#${fileId}#EV`,

  /** Webhooks (API.md 13.5) sit with the tenant's providers and buckets: `T#{t}` / `WEBHOOK#{id}`. */
  webhookSk: (webhookId: string) => `WEBHOOK#${webhookId}`,
  webhookSkPrefix: 'WEBHOOK#',
  /** A webhook's deliveries, one per event, sorted by the event's ULID (backwards: newest first). */
  deliveryPk: (t: string, webhookId: string) => `${tenant(t)}#WH#${webhookId}`,
  deliverySk: (eventId: string) => `D#${eventId}`,

  /** A preview cache entry lives in its file's partition: `T#{t}#F#{fileId}` / `PREVIEW#{variant}`. */
  previewSk: (variant: string) => `PREVIEW#${variant}`,
  previewSkPrefix: 'PREVIEW#',
  /** GSI1: a tenant's preview entries, least recently used first. */
  previewsByAccessPk: (t: string) => `${tenant(t)}#PREVIEWS`,
  previewAccessSk: (lastAccessAt: string, fileId: string, variant: string) =>
    `${lastAccessAt}#${fileId}#${variant}`,
  /** GSI3 (the maintenance index): a tenant's preview entries by creation, for expiry. */
  previewSweepPk: (t: string) => `${tenant(t)}#SWEEP#previews`,
  previewSweepSk: (createdAt: string, fileId: string, variant: string) => `${createdAt}#${fileId}#${variant}`,
  /** The tenant's preview counters, `T#{t}` / `PREVIEWSTATS`; in GSI3 so maintenance finds the tenants. */
  previewStatsSk: 'PREVIEWSTATS',
  previewStatsSweepPk: (t: string) => `${tenant(t)}#SWEEP#previewstats`,
} as const;

/** The tenant of an audit event item's partition key (`T#{t}#EV`), for the event stream; else null. */
export function parseEventPk(pk: string): string | null {
  const match = /^T#([A-Za-z0-9_-]{1,64})#EV$/.exec(pk);
  return match ? (match[1] as string) : null;
}

/** Tenant and webhook of a delivery item's partition key (`T#{t}#WH#{w}`); else null. */
export function parseDeliveryPk(pk: string): { tenantId: string; webhookId: string } | null {
  const match = /^T#([A-Za-z0-9_-]{1,64})#WH#([A-Za-z0-9_-]{1,64})$/.exec(pk);
  return match ? { tenantId: match[1] as string, webhookId: match[2] as string } : null;
}

export type FilePartition = 'live' | 'deleted';

const TENANT_PREFIX = 'tenants/';
const QUARANTINE_PREFIX = 'quarantine/';

export const objectKeys = {
  /** Where every tenant's objects live; bucket-wide rules (IAM, events, lifecycle) name this root. */
  tenantsRoot: TENANT_PREFIX,
  /** Where rejected uploads are kept for inspection, each under its tenant's prefix. */
  quarantineRoot: QUARANTINE_PREFIX,
  tenantPrefix: (t: string) => `${TENANT_PREFIX}${t}/`,
  file: (t: string, bucketId: string, fileId: string) => `${TENANT_PREFIX}${t}/${bucketId}/${fileId}`,
  quarantinePrefix: (t: string) => `${QUARANTINE_PREFIX}${TENANT_PREFIX}${t}/`,
  quarantine: (t: string, bucketId: string, fileId: string) =>
    `${QUARANTINE_PREFIX}${TENANT_PREFIX}${t}/${bucketId}/${fileId}`,
  preview: (t: string, fileId: string, variant: string) =>
    `${TENANT_PREFIX}${t}/previews/${fileId}/${variant}.png`,
  previewPrefix: (t: string, fileId?: string) =>
    fileId ? `${TENANT_PREFIX}${t}/previews/${fileId}/` : `${TENANT_PREFIX}${t}/previews/`,
} as const;

export interface FileObjectAddress {
  tenantId: string;
  bucketId: string;
  fileId: string;
}

const FILE_KEY = /^tenants\/([A-Za-z0-9_-]{1,64})\/([A-Za-z0-9_-]{1,64})\/([A-Za-z0-9_-]{1,64})$/;

/** Reads a file's address back from its object key; anything else (previews, strays) is null. */
export function parseFileObjectKey(key: string): FileObjectAddress | null {
  const match = FILE_KEY.exec(key);
  if (!match || match[2] === 'previews') return null;
  return { tenantId: match[1] as string, bucketId: match[2] as string, fileId: match[3] as string };
}
