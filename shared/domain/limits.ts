/**
 * Bounds on the work one request may cause (issue 9, item 12). Each is documented in the
 * README's "Limits" table; changing one is a contract change for self-hosters.
 */
import type { Actor } from './model.js';

/**
 * Items a non-admin list request reads at most (files in an index, or references of an entity),
 * whatever it shows. A viewer who sees 1 file of 100,000 gets pages with fewer than `limit`
 * items (even none) and a `nextCursor` that continues where the reading stopped, so each request
 * costs at most this much. Twice the largest page, so a page the caller can wholly see is still
 * exact. Admins see everything they read, so their pages stay exact without it.
 */
export const MAX_ITEMS_READ_PER_LIST = 2_000;

/** The read bound of a list request by this caller; none for admins, who see all they read. */
export const listReadBudget = (actor: Pick<Actor, 'roles'>): number | undefined =>
  actor.roles.includes('admin') ? undefined : MAX_ITEMS_READ_PER_LIST;

/**
 * References one file may hold. They are denormalised on the file item (DynamoDB items are at
 * most 400 KB: 100 references of the longest ids take about 13 KB), and every access check reads
 * them. Adding one more is 409 `CONFLICT` (`details.maxReferences`), enforced by a condition on
 * the size of the item's `refs` set in the same write. Uploads give at most 50 of them.
 */
export const MAX_REFERENCES_PER_FILE = 100;
