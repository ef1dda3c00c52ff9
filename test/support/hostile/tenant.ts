import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { mintDevToken } from '../../../local/dev-token.js';
import { type Expectation, exact } from './contract.js';
import { type RawAnswer, sendRaw } from './http.js';
import { type ApiRoute, matchRoute, type Role } from './route-table.js';

/** Who calls: the three roles, a token with none of them, and no token at all. */
export type Caller = Role | 'none' | 'anonymous';
export const CALLERS: readonly Caller[] = ['admin', 'member', 'viewer', 'none', 'anonymous'];
const USERS: Record<Caller, string> = {
  admin: 'alice',
  member: 'bob',
  viewer: 'vic',
  none: 'nora',
  anonymous: 'nobody',
};

/** What a tenant was given through a 201: the only things that may exist after the run. */
export interface Ledger {
  files: Set<string>;
  buckets: Set<string>;
  providers: Set<string>;
}

export interface HostileTenant {
  id: string;
  label: string;
  users: Record<Caller, string>;
  ledger: Ledger;
  send(
    caller: Caller,
    method: string,
    path: string,
    body?: string | Uint8Array,
    headers?: Record<string, string>,
  ): Promise<RawAnswer>;
  /** JSON in, parsed answer out, as `caller`; for setting up fixtures. */
  json(caller: Caller, method: string, path: string, body?: unknown): Promise<RawAnswer>;
}

const CREATES: Record<string, (body: any) => [keyof Ledger, string] | null> = {
  initiateUpload: (b) => (b?.file?.id ? ['files', b.file.id] : null),
  createBucket: (b) => (b?.id ? ['buckets', b.id] : null),
  createProvider: (b) => (b?.id ? ['providers', b.id] : null),
};

export async function hostileTenant(label: string): Promise<HostileTenant> {
  const id = `hostile-${label}-${randomBytes(5).toString('hex')}`;
  const base = inject('apiUrl');
  const tokens: Partial<Record<Caller, string>> = {};
  for (const caller of CALLERS) {
    if (caller === 'anonymous') continue;
    const roles = caller === 'none' ? ['auditor'] : [caller];
    tokens[caller] = await mintDevToken({ tenantId: id, userId: USERS[caller], roles });
  }
  const ledger: Ledger = { files: new Set(), buckets: new Set(), providers: new Set() };
  const send: HostileTenant['send'] = async (caller, method, path, body, headers) => {
    const answer = await sendRaw(base, { method, path, token: tokens[caller], body, headers });
    if (answer.status === 201) {
      const found = matchRoute(method, path.split('?')[0] as string);
      const made = found.kind === 'found' ? CREATES[found.route.operationId]?.(answer.body) : null;
      if (made) ledger[made[0]].add(made[1]);
    }
    return answer;
  };
  return {
    id,
    label,
    users: USERS,
    ledger,
    send,
    json: (caller, method, path, body) =>
      send(caller, method, path, body === undefined ? undefined : JSON.stringify(body)),
  };
}

const RANK: Record<Role, number> = { viewer: 1, member: 2, admin: 3 };

/**
 * API.md's first checks: 401 without a valid token, then 403 for a role that may never call
 * the route. null when the caller gets past both.
 */
export function roleExpectation(caller: Caller, route: ApiRoute): Expectation | null {
  if (route.role === 'public') return null;
  if (caller === 'anonymous') return exact(401, 'UNAUTHENTICATED', 'no token');
  if (caller === 'none') return exact(403, 'FORBIDDEN', 'a token with none of the roles');
  if (RANK[caller] < RANK[route.role])
    return exact(403, 'FORBIDDEN', `${caller} may never call a ${route.role} route`);
  return null;
}

/** Counts cases per category, for the summary line. */
export class Tally {
  private readonly counts = new Map<string, number>();
  add(category: string, n = 1): void {
    this.counts.set(category, (this.counts.get(category) ?? 0) + n);
  }
  get total(): number {
    return [...this.counts.values()].reduce((a, b) => a + b, 0);
  }
  summary(): string {
    const parts = [...this.counts].map(([k, v]) => `${k} ${v}`).join(', ');
    return `hostile cases: ${this.total} (${parts})`;
  }
}
