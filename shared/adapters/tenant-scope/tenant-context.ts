import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The tenant a piece of work is done for, carried through async calls so adapters can pick
 * that tenant's scoped credentials without every port method taking them. Entry points set it
 * (the API router from verified claims, process-upload from the object key); work outside any
 * tenant (the maintenance sweep) runs with the function's own role.
 */
const storage = new AsyncLocalStorage<string>();

export const runAsTenant = <T>(tenantId: string, work: () => Promise<T>): Promise<T> =>
  storage.run(tenantId, work);

export const currentTenant = (): string | undefined => storage.getStore();
