import { lookup } from 'node:dns/promises';
import type { HostResolver } from '../ports/host-resolver.js';

/** The system resolver (getaddrinfo, as Node's own connections use): every answer, in its order. */
export const dnsHostResolver: HostResolver = {
  async resolve(hostname) {
    const answers = await lookup(hostname, { all: true, order: 'verbatim' });
    return answers.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
  },
};
