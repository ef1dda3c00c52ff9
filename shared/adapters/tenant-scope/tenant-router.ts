import { currentTenant } from './tenant-context.js';

/**
 * An adapter that answers each call with the current tenant's instance (built on first use,
 * with that tenant's scoped credentials) and with the system instance outside any tenant.
 * Services keep one `MetadataStore` or `ObjectStore` and never learn about credentials.
 */
export function routeByTenant<T extends object>(opts: {
  system: T;
  forTenant: (tenantId: string) => T;
  /** Warm containers serve many tenants: keep the most recent ones. */
  maxTenants?: number;
}): T {
  const max = opts.maxTenants ?? 500;
  const instances = new Map<string, T>();
  const resolve = (): T => {
    const tenantId = currentTenant();
    if (tenantId === undefined) return opts.system;
    let instance = instances.get(tenantId);
    if (instance) {
      instances.delete(tenantId); // re-insert: most recently used last
    } else {
      instance = opts.forTenant(tenantId);
      if (instances.size >= max) instances.delete(instances.keys().next().value as string);
    }
    instances.set(tenantId, instance);
    return instance;
  };
  return new Proxy(opts.system, {
    get(_, property) {
      const target = resolve();
      const value = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
