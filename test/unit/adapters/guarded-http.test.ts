import { request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { createServer, type Server } from 'node:net';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createGuardedAgents } from '../../../shared/adapters/guarded-http.js';
import { createS3Client } from '../../../shared/adapters/s3-object-store.js';
import type { HostResolver, ResolvedAddress } from '../../../shared/ports/host-resolver.js';

/**
 * The connect-time half of API.md section 13.7: whatever a name answered when the endpoint was
 * checked, a connection goes only to public addresses. A loopback listener counts every TCP
 * connection it gets; a refused call must leave it at 0.
 */

let listener: Server;
let port = 0;
let connections = 0;

beforeAll(async () => {
  listener = createServer((socket) => {
    connections += 1;
    socket.destroy();
  });
  await new Promise<void>((done) => listener.listen(0, '127.0.0.1', done));
  port = (listener.address() as { port: number }).port;
});
afterAll(() => new Promise<void>((done) => listener.close(() => done())));
beforeEach(() => {
  connections = 0;
});

const v4 = (address: string): ResolvedAddress => ({ address, family: 4 });
/** A name that answers `first` once (the check at creation) and `then` ever after (rebinding). */
function rebinding(first: ResolvedAddress[], then: ResolvedAddress[]): HostResolver & { calls: number } {
  const resolver = {
    calls: 0,
    async resolve() {
      resolver.calls += 1;
      return resolver.calls === 1 ? first : then;
    },
  };
  return resolver;
}

/** One GET through `agent`, answering the error or the status (the listener answers nothing). */
function get(url: string, agent: unknown): Promise<string> {
  const send = url.startsWith('https:') ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    const req = send(url, { agent: agent as never, timeout: 2000, rejectUnauthorized: false });
    req.on('response', (res) => {
      res.resume();
      resolve(`status ${res.statusCode}`);
    });
    req.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.name));
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
}

describe('guarded agents', () => {
  it('never connect to loopback when a name that was public now answers 127.0.0.1 (DNS rebinding)', async () => {
    // Prepare: the check at creation saw a public address.
    const resolver = rebinding([v4('93.184.216.34')], [v4('127.0.0.1')]);
    expect(await resolver.resolve('rebind.example')).toEqual([v4('93.184.216.34')]);
    const { httpsAgent } = createGuardedAgents({ allowedOrigins: [], resolver });

    // Act
    const outcome = await get(`https://rebind.example:${port}/`, httpsAgent);

    // Assess: refused before any socket, and the guard did ask the resolver again.
    expect(outcome).toBe('ERR_ENDPOINT_REFUSED');
    expect(resolver.calls).toBe(2);
    expect(connections).toBe(0);
  });

  it('are what stops it: an ordinary agent with the same resolver connects', async () => {
    const resolver = rebinding([v4('127.0.0.1')], [v4('127.0.0.1')]);
    const plain = new HttpsAgent({
      lookup: (host, opts, cb) =>
        void resolver.resolve(host).then((a) => (opts.all ? cb(null, a) : cb(null, a[0]!.address, 4))),
    });
    expect(await get(`https://rebind.example:${port}/`, plain)).not.toBe('ERR_ENDPOINT_REFUSED');
    expect(connections).toBe(1);
  });

  it('refuse a name when any one of its answers is not public', async () => {
    const resolver = rebinding([v4('93.184.216.34'), v4('127.0.0.1')], []);
    const { httpsAgent } = createGuardedAgents({ allowedOrigins: [], resolver });
    expect(await get(`https://mixed.example:${port}/`, httpsAgent)).toBe('ERR_ENDPOINT_REFUSED');
    expect(connections).toBe(0);
  });

  it.each([
    `https://127.0.0.1:PORT/`,
    `https://[::ffff:127.0.0.1]:PORT/`,
    `https://[::ffff:7f00:1]:PORT/`,
    `https://2130706433:PORT/`,
    `https://0x7f.1:PORT/`,
    `https://127.1:PORT/`,
  ])('refuse the IP literal %s, which Node connects to without a lookup', async (url) => {
    const resolver = rebinding([v4('127.0.0.1')], [v4('127.0.0.1')]);
    const { httpsAgent } = createGuardedAgents({ allowedOrigins: [], resolver });
    expect(await get(url.replace('PORT', String(port)), httpsAgent)).toBe('ERR_ENDPOINT_REFUSED');
    expect(connections).toBe(0);
  });

  it('send plain http only to allow-listed origins, and there to any address', async () => {
    const resolver = rebinding([v4('127.0.0.1')], [v4('127.0.0.1')]);
    const { httpAgent } = createGuardedAgents({ allowedOrigins: [`http://127.0.0.1:${port}`], resolver });
    expect(await get(`http://localhost:${port}/`, httpAgent)).toBe('ERR_ENDPOINT_REFUSED');
    expect(await get(`http://127.0.0.1:${port + 1}/`, httpAgent)).toBe('ERR_ENDPOINT_REFUSED');
    expect(connections).toBe(0);
    await get(`http://127.0.0.1:${port}/`, httpAgent);
    expect(connections).toBe(1);
  });

  it('hold for the S3 client of a tenant provider: a rebinding endpoint gets no request', async () => {
    const resolver = rebinding([v4('93.184.216.34')], [v4('127.0.0.1')]);
    await resolver.resolve('s3.rebind.example');
    const client = createS3Client({
      region: 'us-east-1',
      endpoint: `https://s3.rebind.example:${port}`,
      forcePathStyle: true,
      credentials: { accessKeyId: 'AKIATENANT', secretAccessKey: 'tenant-secret' },
      agents: createGuardedAgents({ allowedOrigins: [], resolver }),
      maxAttempts: 3,
    });
    await expect(client.send(new HeadObjectCommand({ Bucket: 'b', Key: 'k' }))).rejects.toMatchObject({
      code: 'ERR_ENDPOINT_REFUSED',
    });
    expect(connections).toBe(0);
    client.destroy();
  });
});
