/** API.md 13.4: a share link and the rules that decide whether it still opens. */
export interface ShareLink {
  id: string;
  tenantId: string;
  fileId: string;
  /** SHA-256 (hex) of the token; the token itself is shown once, at creation, and never stored. */
  tokenHash: string;
  expiresAt: string;
  maxDownloads: number | null;
  downloads: number;
  createdBy: string;
  createdAt: string;
  revokedAt: string | null;
  /** Why it was revoked: by a user, or because its file was deleted. */
  revokedReason: 'revoked' | 'file-deleted' | null;
}

export type ShareLinkState = 'active' | 'expired' | 'revoked' | 'exhausted';

export const SHARE_LINK_LIMITS = {
  minExpiresInSeconds: 60,
  maxExpiresInSeconds: 2_592_000,
  maxDownloads: 10_000,
} as const;

/** What a link is at `now`; anything but `active` answers 410 GONE. */
export function shareLinkState(link: ShareLink, now: Date): ShareLinkState {
  if (link.revokedAt !== null) return 'revoked';
  if (link.expiresAt <= now.toISOString()) return 'expired';
  if (link.maxDownloads !== null && link.downloads >= link.maxDownloads) return 'exhausted';
  return 'active';
}

/** The actor of work done through a link, reserved so no token can name it (model.ts). */
export const linkActor = (linkId: string) => `link:${linkId}`;
