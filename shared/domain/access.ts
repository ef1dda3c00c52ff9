import { forbidden } from './errors.js';
import type { Actor, Bucket, FileRecord, Grant, Role } from './model.js';

export const hasRole = (actor: Actor, role: Role): boolean => {
  if (actor.roles.includes('admin')) return true;
  if (role === 'viewer') return actor.roles.includes('member') || actor.roles.includes('viewer');
  return actor.roles.includes(role);
};

/** The role check that comes before input validation: "403 for a role that may never do this". */
export function requireRole(actor: Actor, role: Role): void {
  if (!hasRole(actor, role)) throw forbidden(`This action needs the ${role} role.`);
}

const refKey = (entityType: string, entityId: string) => `${entityType}\u0000${entityId}`;

/**
 * API.md section 8: who sees a file and who changes it. `grants` are the caller's grants on
 * the entities this file references (any others are ignored).
 */
export function fileAccess(
  actor: Actor,
  file: Pick<FileRecord, 'uploadedBy' | 'references'>,
  bucket: Pick<Bucket, 'restricted'> | null,
  grants: readonly Pick<Grant, 'entityType' | 'entityId' | 'access'>[],
): { see: boolean; change: boolean } {
  if (actor.roles.includes('admin')) return { see: true, change: true };
  const isMember = actor.roles.includes('member');
  if (file.uploadedBy === actor.userId) return { see: true, change: isMember };
  const referenced = new Set(file.references.map((r) => refKey(r.entityType, r.entityId)));
  const relevant = grants.filter((g) => referenced.has(refKey(g.entityType, g.entityId)));
  if (relevant.length > 0) {
    return { see: true, change: isMember && relevant.some((g) => g.access === 'write') };
  }
  const open = file.references.length === 0 && bucket !== null && !bucket.restricted;
  return { see: open, change: open && isMember };
}

/**
 * API.md 13.3: who renames a file or replaces its metadata, narrower than "who changes a file":
 * an admin, its uploader (a member), or a member holding a `write` grant on an entity it
 * references. An open file is not editable by every member.
 */
export function canEditFile(
  actor: Actor,
  file: Pick<FileRecord, 'uploadedBy' | 'references'>,
  grants: readonly Pick<Grant, 'entityType' | 'entityId' | 'access'>[],
): boolean {
  if (actor.roles.includes('admin')) return true;
  if (!actor.roles.includes('member')) return false;
  if (file.uploadedBy === actor.userId) return true;
  const referenced = new Set(file.references.map((r) => refKey(r.entityType, r.entityId)));
  return grants.some((g) => g.access === 'write' && referenced.has(refKey(g.entityType, g.entityId)));
}
