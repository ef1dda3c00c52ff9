import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A real HTTP receiver for webhook tests, on loopback (global setup starts it before the stack
 * and allow-lists exactly its origin, FILESTORE_ALLOWED_ENDPOINTS). Each test uses its own path
 * `/hooks/{key}`, and tells the receiver how to answer there through `/_control/{key}`:
 * fail N times with a status, hang, or redirect. Every request it gets is recorded.
 */
export interface ReceiverBehaviour {
  /** Answer this status to the first `failTimes` requests (then 200). */
  failTimes?: number;
  failStatus?: number;
  /** Never answer. */
  hang?: boolean;
  /** Answer 302 to this location. */
  redirectTo?: string;
}

export interface ReceivedRequest {
  headers: Record<string, string>;
  body: string;
  at: number;
}

export async function startWebhookReceiver(): Promise<{ origin: string; stop(): Promise<void> }> {
  const behaviours = new Map<string, ReceiverBehaviour>();
  const received = new Map<string, ReceivedRequest[]>();
  const server: Server = createServer(async (req, res) => {
    const body = await readBody(req);
    const [, area, key = ''] = (req.url ?? '').split('?')[0]?.split('/') ?? [];
    if (area === '_control') {
      if (req.method === 'POST') {
        behaviours.set(key, JSON.parse(body || '{}') as ReceiverBehaviour);
        res.writeHead(204).end();
      } else
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify(received.get(key) ?? []));
      return;
    }
    if (area !== 'hooks') return void res.writeHead(404).end();
    const list = received.get(key) ?? [];
    list.push({ headers: req.headers as Record<string, string>, body, at: Date.now() });
    received.set(key, list);
    const b = behaviours.get(key) ?? {};
    if (b.hang) return; // the socket stays open until the sender gives up
    if (b.redirectTo) return void res.writeHead(302, { location: b.redirectTo }).end();
    if (list.length <= (b.failTimes ?? 0))
      return void res.writeHead(b.failStatus ?? 503).end('receiver says no; secret-looking text');
    res.writeHead(200).end('ok');
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

const readBody = (req: IncomingMessage) =>
  new Promise<string>((done) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => done(Buffer.concat(chunks).toString('utf8')));
  });

/** The test side: a key's URL, its behaviour, and what it received. */
export function receiverKey(origin: string, key: string) {
  return {
    url: `${origin}/hooks/${key}`,
    behave: (b: ReceiverBehaviour) =>
      fetch(`${origin}/_control/${key}`, { method: 'POST', body: JSON.stringify(b) }).then(() => undefined),
    received: async (): Promise<ReceivedRequest[]> => (await fetch(`${origin}/_control/${key}`)).json(),
  };
}
