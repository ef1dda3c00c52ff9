import { requireRole } from '../domain/access.js';
import { contentDisposition } from '../domain/content-disposition.js';
import { conflict, forbidden, gone, notFound } from '../domain/errors.js';
import { safeResponseContentType } from '../domain/mime.js';
import type { Actor } from '../domain/model.js';
import { linkActor, type ShareLink, type ShareLinkState, shareLinkState } from '../domain/share-link.js';
import { AuditTrail } from './audit-trail.js';
import type { FileAccessGuard } from './file-access.js';
import type { ServiceDeps } from './service-deps.js';
import { hashShareToken, newShareToken, shareTokenTenant } from './share-token.js';

export interface CreateShareLinkInput {
  expiresInSeconds: number;
  maxDownloads?: number;
}

/** A link as its owner sees it: never the token, which only its creation answer holds. */
export interface ShareLinkView {
  link: ShareLink;
  state: ShareLinkState;
}

/** A file's links are listed up to this many, newest first. */
export const MAX_LINKS_LISTED = 1000;
/** The redirect target of a shared download: followed at once, so it lives briefly. */
const SHARED_URL_TTL_SECONDS = 60;

/** Share links (API.md 13.4): create, list, revoke, and the public download through a token. */
export class ShareLinkService {
  private readonly audit: AuditTrail;

  constructor(
    private readonly deps: ServiceDeps,
    private readonly access: FileAccessGuard,
  ) {
    this.audit = new AuditTrail(deps);
  }

  /** Whoever may download the file may share it, while it is active. */
  async create(
    actor: Actor,
    fileId: string,
    input: CreateShareLinkInput,
  ): Promise<{ link: ShareLink; token: string }> {
    requireRole(actor, 'viewer');
    const { file } = await this.access.visible(actor, fileId);
    if (file.status === 'deleted') throw notFound('The file');
    if (file.status !== 'active') throw conflict(`The file is ${file.status} and cannot be shared.`);
    const now = this.deps.clock.now();
    const { token, tokenHash } = newShareToken(actor.tenantId);
    const link: ShareLink = {
      id: this.deps.ids.next(),
      tenantId: actor.tenantId,
      fileId,
      tokenHash,
      expiresAt: new Date(now.getTime() + input.expiresInSeconds * 1000).toISOString(),
      maxDownloads: input.maxDownloads ?? null,
      downloads: 0,
      createdBy: actor.userId,
      createdAt: now.toISOString(),
      revokedAt: null,
      revokedReason: null,
    };
    await this.deps.metadata.links.create(link);
    await this.audit.record(actor.tenantId, {
      type: 'link.created',
      actor: actor.userId,
      fileId,
      providerId: file.providerId,
      details: { linkId: link.id, expiresAt: link.expiresAt, maxDownloads: link.maxDownloads },
    });
    return { link, token };
  }

  async list(actor: Actor, fileId: string): Promise<ShareLinkView[]> {
    requireRole(actor, 'viewer');
    await this.access.visible(actor, fileId);
    const now = this.deps.clock.now();
    const links = await this.deps.metadata.links.listForFile(actor.tenantId, fileId, MAX_LINKS_LISTED);
    return links.map((link) => ({ link, state: shareLinkState(link, now) }));
  }

  /** The creator or an admin; a link on a file the caller cannot see is 404, as another tenant's. */
  async revoke(actor: Actor, linkId: string): Promise<void> {
    requireRole(actor, 'viewer');
    const link = await this.deps.metadata.links.getById(actor.tenantId, linkId);
    if (!link) throw notFound('The link');
    const isAdmin = actor.roles.includes('admin');
    if (!isAdmin && link.createdBy !== actor.userId) {
      await this.access.visible(actor, link.fileId).catch(() => {
        throw notFound('The link');
      });
      throw forbidden('Only the link creator or an admin may revoke it.');
    }
    if (link.revokedAt !== null) return;
    const at = this.deps.clock.now().toISOString();
    if (!(await this.deps.metadata.links.revoke(link, at, 'revoked'))) return;
    await this.audit.record(actor.tenantId, {
      type: 'link.revoked',
      actor: actor.userId,
      fileId: link.fileId,
      details: { linkId: link.id },
    });
  }

  /**
   * `GET /v1/shared/{token}`: one GetItem by the token's hash (an unknown token costs the same
   * as a known one up to there, and nothing compares secrets), then the download is counted
   * by a conditional update, so concurrent requests never pass `maxDownloads`.
   */
  async open(token: string): Promise<{ url: string; expiresAt: string }> {
    const tenantId = shareTokenTenant(token);
    if (!tenantId) throw notFound('The link');
    const link = await this.deps.metadata.links.getByTokenHash(tenantId, hashShareToken(token));
    if (!link) throw notFound('The link');
    const now = this.deps.clock.now();
    const state = shareLinkState(link, now);
    if (state !== 'active') throw gone(goneMessage(state, link));
    const file = await this.deps.metadata.files.get(tenantId, link.fileId);
    if (!file || file.status !== 'active') throw gone('The shared file was deleted.');
    const counted = await this.deps.metadata.links.countDownload(link, now.toISOString());
    if (!counted) throw gone('The link expired, was revoked or has no downloads left.');
    const ttl = Math.min(SHARED_URL_TTL_SECONDS, this.deps.settings.downloadUrlTtlSeconds);
    const store = await this.deps.stores.forProvider(tenantId, file.providerId);
    const url = await store.presignGet({
      key: file.objectKey,
      versionId: file.validatedObject?.versionId,
      expiresInSeconds: ttl,
      responseContentType: safeResponseContentType(file.mimeType, file.declaredCharset),
      responseContentDisposition: contentDisposition(file.originalName),
    });
    await this.audit.record(tenantId, {
      type: 'file.downloaded',
      actor: linkActor(link.id),
      fileId: file.id,
      providerId: file.providerId,
      details: { linkId: link.id, downloads: counted.downloads },
    });
    return { url, expiresAt: new Date(now.getTime() + ttl * 1000).toISOString() };
  }

  /** A deleted file's links die with it (a restore does not bring them back). */
  async killForFile(tenantId: string, fileId: string): Promise<void> {
    const at = this.deps.clock.now().toISOString();
    for (const link of await this.deps.metadata.links.listForFile(tenantId, fileId, MAX_LINKS_LISTED)) {
      if (link.revokedAt === null) await this.deps.metadata.links.revoke(link, at, 'file-deleted');
    }
  }
}

function goneMessage(state: ShareLinkState, link: ShareLink): string {
  if (state === 'expired') return 'The link expired.';
  if (state === 'exhausted') return 'The link has no downloads left.';
  return link.revokedReason === 'file-deleted' ? 'The shared file was deleted.' : 'The link was revoked.';
}
