/** One request an SDK client made to a store: which service, which command (`GetItem`, `HeadObject`...). */
export interface StorageCall {
  service: 'dynamodb' | 's3';
  command: string;
}

export type StorageCallObserver = (call: StorageCall) => void;

/** The part of an SDK v3 client this needs: its middleware stack. */
interface ClientWithMiddleware {
  middlewareStack: {
    add(
      middleware: (
        next: (args: unknown) => Promise<unknown>,
        context: { commandName?: string },
      ) => (args: unknown) => Promise<unknown>,
      options: { step: 'deserialize'; name: string; override: boolean },
    ): void;
  };
}

/**
 * Tells `observe` of every request the client puts on the wire: the step next to the HTTP
 * handler, so a retry counts as the round trip it is and presigning a URL (which stops before
 * signing) counts nothing. The benchmark counts round trips per operation with it; production
 * composes no observer, so no client carries the middleware there.
 */
export function observeStorageCalls<C>(
  client: C,
  service: StorageCall['service'],
  observe: StorageCallObserver | undefined,
): C {
  if (!observe) return client;
  (client as unknown as ClientWithMiddleware).middlewareStack.add(
    (next, context) => (args) => {
      observe({ service, command: (context.commandName ?? 'unknown').replace(/Command$/, '') });
      return next(args);
    },
    { step: 'deserialize', name: 'stowageStorageCalls', override: true },
  );
  return client;
}
