import { type ClientRequestArgs, Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent, type RequestOptions } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import type { Duplex } from 'node:stream';
import { allPublic, isPublicAddress, originOf } from '../domain/endpoint-rules.js';
import type { HostResolver } from '../ports/host-resolver.js';

export interface GuardedAgentOptions {
  /** Canonical origins the operator exempts (`FILESTORE_ALLOWED_ENDPOINTS`): any address, http too. */
  allowedOrigins: readonly string[];
  resolver: HostResolver;
}

/** What a refused connection fails with; the request never leaves the process. */
export class EndpointRefusedError extends Error {
  override readonly name = 'EndpointRefusedError';
  readonly code = 'ERR_ENDPOINT_REFUSED';
}

export interface GuardedAgents {
  httpAgent: HttpAgent;
  httpsAgent: HttpsAgent;
}

type Connect = (options: ClientRequestArgs) => { refuse: Error } | { options: ClientRequestArgs };

/**
 * HTTP agents for calls the service makes on a tenant's behalf (provider endpoints; webhooks
 * later): the rule of API.md section 13.7 held on the address actually connected to. A host
 * name is resolved by a guarded `lookup` that refuses the connection when any answer is not
 * public, so a name that was public when the provider was created and points at 127.0.0.1 now
 * (DNS rebinding) never connects. Node skips `lookup` for IP literals, so those are judged
 * before connecting. Plain http connects only to allow-listed origins. Neither agent follows
 * redirects: Node's HTTP client never does, and the SDK does not either.
 */
export function createGuardedAgents(opts: GuardedAgentOptions): GuardedAgents {
  const lookup = guardedLookup(opts.resolver);
  const connect =
    (protocol: 'http:' | 'https:'): Connect =>
    (options) => {
      const host = String(options.host ?? options.hostname ?? 'localhost').replace(/^\[(.*)\]$/, '$1');
      const origin = originOf(protocol, host, options.port ?? (protocol === 'https:' ? 443 : 80));
      if (options.socketPath) return refuse('a Unix socket');
      if (origin !== null && opts.allowedOrigins.includes(origin)) return { options };
      if (protocol !== 'https:') return refuse(`${origin ?? host} over plain http`);
      if (isIP(host) === 0) return { options: { ...options, lookup } };
      return isPublicAddress(host) ? { options } : refuse(host);
    };
  return {
    httpAgent: new GuardedHttpAgent(connect('http:')),
    httpsAgent: new GuardedHttpsAgent(connect('https:')),
  };
}

class GuardedHttpAgent extends HttpAgent {
  constructor(private readonly connect: Connect) {
    super({ keepAlive: true });
  }
  override createConnection(options: ClientRequestArgs, callback?: ConnectCallback) {
    return connectOrRefuse(this.connect(options), callback, (o) => super.createConnection(o, callback));
  }
}

class GuardedHttpsAgent extends HttpsAgent {
  constructor(private readonly connect: Connect) {
    super({ keepAlive: true });
  }
  override createConnection(options: RequestOptions, callback?: ConnectCallback) {
    return connectOrRefuse(this.connect(options), callback, (o) => super.createConnection(o, callback));
  }
}

type ConnectCallback = (err: Error | null, stream: Duplex) => void;

function connectOrRefuse(
  decision: ReturnType<Connect>,
  callback: ConnectCallback | undefined,
  connect: (options: RequestOptions) => Duplex | null | undefined,
): Duplex | null | undefined {
  if ('options' in decision) return connect(decision.options as RequestOptions);
  // Handing the error to the callback fails the request before any socket exists.
  process.nextTick(() => callback?.(decision.refuse, undefined as never));
  return undefined;
}

const refuse = (what: string) => ({ refuse: new EndpointRefusedError(`Refused to connect to ${what}.`) });

/** A `lookup` for net.connect that answers only when every address of the name is public. */
function guardedLookup(resolver: HostResolver): LookupFunction {
  return (hostname, options, callback) => {
    resolver
      .resolve(hostname)
      .then(
        (answers) => {
          if (!allPublic(answers.map((a) => a.address))) return { error: refuse(hostname).refuse };
          const wanted = options.family ? answers.filter((a) => a.family === options.family) : answers;
          const first = wanted[0];
          if (!first)
            return { error: Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }) };
          return { answers: wanted, first };
        },
        (error: Error) => ({ error }),
      )
      .then((result) => {
        // Out of the promise chain, so an exception in the socket code is not swallowed.
        process.nextTick(() => {
          if ('error' in result) return callback(result.error as NodeJS.ErrnoException, '');
          if (options.all) return callback(null, result.answers);
          callback(null, result.first.address, result.first.family);
        });
      });
  };
}
