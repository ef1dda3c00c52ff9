import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { readLocalConfig } from '../../local/local-config.js';
import { localRoutes } from '../../local/local-routes.js';
import { stackDynamoClient, stackDynamoCredentials } from '../support/dynamo.js';
import { isLoopback, listeningSockets, socketInodesOf } from '../support/listening-sockets.js';

const portOf = (url: string) => Number(new URL(url).port);

/**
 * What another machine on the network, another user of this one, or a web page open in the
 * developer's browser can reach of the stack `npm start` runs (here: the test run's stack, on
 * its defaults but for the ports).
 */
describe('the local stack on its defaults', () => {
  it("runs DynamoDB Local's Java process with every listening socket on loopback", async () => {
    // Prepare
    const pid = inject('dynamoPid');
    expect(pid).toBeGreaterThan(0);
    // Act
    const inodes = await socketInodesOf(pid);
    const listening = (await listeningSockets()).filter((s) => inodes.has(s.inode));
    // Assess: at least the HTTP port, and none on 0.0.0.0, :: or a LAN address.
    expect(listening.length).toBeGreaterThan(0);
    expect(listening.filter((s) => !isLoopback(s.address))).toEqual([]);
  });

  it('listens for the API, the embedded S3 store and DynamoDB on 127.0.0.1 only', async () => {
    const sockets = await listeningSockets();
    for (const url of [inject('apiUrl'), inject('s3Endpoint'), inject('dynamoEndpoint')]) {
      const onPort = sockets.filter((s) => s.port === portOf(url));
      expect(onPort.length, url).toBeGreaterThan(0);
      expect(
        onPort.filter((s) => !isLoopback(s.address)),
        url,
      ).toEqual([]);
    }
  });
});

describe('DynamoDB Local behind its proxy', () => {
  const endpoint = inject('dynamoEndpoint');
  const clients: DynamoDBClient[] = [];
  const clientWith = (credentials: { accessKeyId: string; secretAccessKey: string }) => {
    const client = new DynamoDBClient({ region: 'us-east-1', endpoint, credentials, maxAttempts: 1 });
    clients.push(client);
    return client;
  };
  afterAll(() => {
    for (const client of clients) client.destroy();
  });

  it('answers requests signed with the stack key pair', async () => {
    const client = stackDynamoClient();
    clients.push(client);
    const { TableNames } = await client.send(new ListTablesCommand({}));
    expect(TableNames).toContain(inject('stackConfig').tableName);
  });

  it('refuses made-up credentials, as DynamoDB does (UnrecognizedClientException)', async () => {
    const error = await clientWith({ accessKeyId: 'local', secretAccessKey: 'local' })
      .send(new ListTablesCommand({}))
      .catch((e: unknown) => e);
    expect((error as Error).name).toBe('UnrecognizedClientException');
  });

  it('refuses the right access key with a wrong secret (InvalidSignatureException)', async () => {
    const error = await clientWith({ ...stackDynamoCredentials(), secretAccessKey: 'guessed' })
      .send(new ListTablesCommand({}))
      .catch((e: unknown) => e);
    expect((error as Error).name).toBe('InvalidSignatureException');
  });

  it('refuses unsigned requests, and a signed one whose body was changed', async () => {
    // Prepare: a real signed request, captured on its way out.
    let signed: { headers: Record<string, string>; body: string } | null = null;
    const client = stackDynamoClient();
    clients.push(client);
    client.middlewareStack.add(
      (next) => async (args) => {
        const request = args.request as { headers: Record<string, string>; body: string | Uint8Array };
        const body =
          typeof request.body === 'string' ? request.body : Buffer.from(request.body).toString('utf8');
        signed = { headers: { ...request.headers }, body };
        return next(args);
      },
      { step: 'finalizeRequest', priority: 'low', name: 'captureSigned' },
    );
    await client.send(new ListTablesCommand({ Limit: 1 }));
    const captured = signed as unknown as { headers: Record<string, string>; body: string };
    // fetch sets host and content-length itself.
    const { host: _host, 'content-length': _length, ...headers } = captured.headers;

    // Act
    const unsigned = await fetch(endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'DynamoDB_20120810.ListTables',
      },
      body: '{}',
    });
    const replayedWithOtherBody = await fetch(endpoint, {
      method: 'POST',
      headers,
      body: captured.body.replace('"Limit":1', '"Limit":9'), // same length, other content
    });
    const replayedAsSent = await fetch(endpoint, { method: 'POST', headers, body: captured.body });

    // Assess
    expect(unsigned.status).toBe(400);
    expect(((await unsigned.json()) as { __type: string }).__type).toMatch(
      /#MissingAuthenticationTokenException$/,
    );
    expect(replayedWithOtherBody.status).toBe(400);
    expect(((await replayedWithOtherBody.json()) as { __type: string }).__type).toMatch(
      /#InvalidSignatureException$/,
    );
    expect(replayedAsSent.status).toBe(200); // the capture itself was sound
  });

  it('cannot be reached around the proxy: the Java port refuses even a validly signed request', async () => {
    // Prepare: the JVM's own port, read from its sockets.
    const inodes = await socketInodesOf(inject('dynamoPid'));
    const jvmPorts = (await listeningSockets()).filter((s) => inodes.has(s.inode)).map((s) => s.port);
    expect(jvmPorts.length).toBeGreaterThan(0);
    for (const port of jvmPorts) {
      // Act
      const direct = new DynamoDBClient({
        region: 'us-east-1',
        endpoint: `http://127.0.0.1:${port}`,
        credentials: stackDynamoCredentials(),
        maxAttempts: 1,
      });
      clients.push(direct);
      const refused = await direct.send(new ListTablesCommand({})).catch((e: unknown) => e);
      // Assess
      expect((refused as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode).toBe(403);
    }
  });

  it('gives web pages nothing: no CORS answer to a preflight from any origin', async () => {
    const preflight = await fetch(endpoint, {
      method: 'OPTIONS',
      headers: {
        origin: 'http://evil.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type,x-amz-date,x-amz-target',
      },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    expect(preflight.status).toBeGreaterThanOrEqual(400);
  });
});

/** This machine's first address that is not loopback, or null (a sandbox with loopback only). */
function networkAddress(): string | null {
  for (const list of Object.values(networkInterfaces()))
    for (const entry of list ?? []) if (!entry.internal && entry.family === 'IPv4') return entry.address;
  return null;
}

describe('dev tokens when the stack listens on the network', () => {
  const lan = networkAddress();
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const [route] = localRoutes({
      devSecret: 'a-secret-of-our-own',
      claimNames: { tenantClaim: 'tenant_id', rolesClaim: 'roles' },
    });
    const answer = await route?.(req, Buffer.concat(chunks));
    res.writeHead(answer?.status ?? 404, answer?.headers).end(answer?.body);
  });
  const mint = (host: string) =>
    fetch(`http://${host}:${(server.address() as AddressInfo).port}/local/token`, {
      method: 'POST',
      body: JSON.stringify({ tenantId: 'acme', userId: 'mallory', roles: ['admin'] }),
    });
  afterAll(() => new Promise<void>((done) => server.close(() => done())));

  it.skipIf(lan === null)('issues an admin token to a caller on this machine only', async () => {
    // Prepare: listening on every interface, as FILESTORE_HOST=0.0.0.0 does.
    await new Promise<void>((done) => server.listen(0, '0.0.0.0', done));
    // Act
    const fromNetwork = await mint(lan as string);
    const fromLoopback = await mint('127.0.0.1');
    // Assess
    expect(fromNetwork.status).toBe(403);
    expect(await fromNetwork.json()).toMatchObject({ error: { code: 'FORBIDDEN' } });
    expect(fromLoopback.status).toBe(200);
  });

  it('refuses to start on a network address with the built-in dev secret', () => {
    expect(() => readLocalConfig({ FILESTORE_HOST: '0.0.0.0' })).toThrow(/FILESTORE_DEV_JWT_SECRET/);
    expect(
      readLocalConfig({ FILESTORE_HOST: '0.0.0.0', FILESTORE_DEV_JWT_SECRET: 'x'.repeat(40) }).host,
    ).toBe('0.0.0.0');
    expect(readLocalConfig({ FILESTORE_HOST: '127.0.0.1' }).auth.kind).toBe('dev');
  });
});
