import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startLocalStack } from '../local/stack.js';
import type { BenchContext } from './lib/bench-context.js';
import { type BenchTenant, createBenchTenant } from './lib/bench-tenant.js';
import { interleave, samplesOf } from './lib/interleave.js';
import { type BenchReport, ms, ratio, timingTable } from './lib/report.js';
import { summarize } from './lib/stats.js';

const ROUNDS = { warmup: 5, iterations: 60 };

/**
 * Issue 13's webhook figures on the local stack: what a subscribed webhook adds to the request
 * that causes an event (a metadata PATCH, `file.updated`), against the same PATCH in a tenant
 * without webhooks, interleaved; and how long after the change the receiver has the delivery.
 * A stack of its own, because only it may allow its loopback receiver (FILESTORE_ALLOWED_ENDPOINTS).
 */
export async function webhooksBench(ctx: BenchContext): Promise<BenchReport> {
  const arrivals = new Map<string, number>();
  const receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = performance.now();
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      const round = body.file?.metadata?.round;
      if (round) arrivals.set(round, at);
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((done) => receiver.listen(0, '127.0.0.1', done));
  const origin = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  const dataDir = await mkdtemp(join(tmpdir(), 'stowage-bench-webhooks-'));
  ctx.progress('webhooks: a stack that allows the loopback receiver');
  const stack = await startLocalStack({
    port: 0,
    dataDir,
    inMemoryDynamo: true,
    maintenanceIntervalMs: 0,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, FILESTORE_ALLOWED_ENDPOINTS: origin },
  });
  try {
    const hooked = await createBenchTenant(stack, 'hooked');
    const plain = await createBenchTenant(stack, 'plain');
    const made = await hooked.http('POST', '/v1/webhooks', {
      url: `${origin}/hook`,
      events: ['file.updated'],
    });
    if (made.status !== 201) throw new Error(`webhook: ${made.status} ${JSON.stringify(made.body)}`);
    const files = { hooked: await activeFile(hooked), plain: await activeFile(plain) };
    const started = new Map<string, number>();
    let round = 0;
    const patch = (tenant: BenchTenant, fileId: string, mark: boolean) => async () => {
      const name = `r${++round}`;
      if (mark) started.set(name, performance.now());
      const answer = await tenant.http('PATCH', `/v1/files/${fileId}`, { metadata: { round: name } });
      if (answer.status !== 200) throw new Error(`PATCH answered ${answer.status}`);
    };
    const labels = { plain: 'PATCH, no webhook', hooked: 'PATCH, one webhook subscribed' };
    ctx.progress(`webhooks: ${ROUNDS.iterations} interleaved rounds`);
    const samples = await interleave(
      [
        { label: labels.plain, run: patch(plain, files.plain, false) },
        { label: labels.hooked, run: patch(hooked, files.hooked, true) },
      ],
      ROUNDS,
    );
    // Wait for the last deliveries (each is one loopback POST).
    const until = Date.now() + 30_000;
    while ([...started.keys()].some((k) => !arrivals.has(k)) && Date.now() < until)
      await new Promise((done) => setTimeout(done, 50));
    const latencies = [...started].flatMap(([k, at]) =>
      arrivals.has(k) ? [(arrivals.get(k) as number) - at] : [],
    );
    const delivery = summarize(latencies);
    const table = timingTable(
      'webhooks: the request that causes an event, with and without a subscribed webhook',
      { label: labels.plain, samples: samplesOf(samples, labels.plain) },
      [{ label: labels.hooked, samples: samplesOf(samples, labels.hooked) }],
    );
    const median = (label: string) => table.summaries.get(label)?.median ?? Number.NaN;
    return {
      tables: [table.table],
      headlines: [
        {
          label: 'PATCH with a webhook / without',
          value: ratio(median(labels.hooked) / median(labels.plain)),
        },
        { label: 'delivery after the change, p50', value: `${ms(delivery.median)} ms` },
        { label: 'delivery after the change, p95', value: `${ms(delivery.p95)} ms` },
      ],
      notes: [
        `${latencies.length} of ${started.size} deliveries arrived (from the PATCH being sent to the receiver reading the body).`,
        'The aim: nothing added on the request path (a ratio within noise of 1.00x), delivery p50 under 1 s.',
      ],
    };
  } finally {
    await stack.stop();
    await new Promise<void>((done) => receiver.close(() => done()));
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** One small active file of the tenant, to change. */
async function activeFile(tenant: BenchTenant): Promise<string> {
  const bytes = new TextEncoder().encode('a,b\n1,2\n');
  const init = await tenant.http('POST', `/v1/buckets/${tenant.bucketId}/uploads`, {
    filename: 'rows.csv',
    contentType: 'text/csv',
    size: bytes.length,
  });
  if (init.status !== 201) throw new Error(`initiate: ${init.status}`);
  const { upload } = init.body;
  const sent = await fetch(upload.url, {
    method: upload.method,
    headers: upload.headers,
    body: upload.method === 'PUT' ? bytes : undefined,
  });
  if (!sent.ok) throw new Error(`upload: ${sent.status}`);
  const done = await tenant.http('POST', `/v1/files/${init.body.file.id}/complete`, {});
  if (done.body?.status !== 'active') throw new Error(`complete: ${JSON.stringify(done.body)}`);
  return init.body.file.id;
}
