import { randomBytes } from 'node:crypto';
import type { StorageCall } from '../shared/adapters/storage-calls.js';
import { pagesPdf } from '../test/support/preview-samples.js';
import type { BenchContext } from './lib/bench-context.js';
import { type BenchTenant, createBenchTenant, expectStatus } from './lib/bench-tenant.js';
import type { BenchReport } from './lib/report.js';

const ROUNDS = 5;
const LISTED = 50;

/**
 * The round trips behind each operation (issue 14, item 1): every DynamoDB and S3 call the
 * stack's own clients send for it, background work it causes included (the storage event's
 * validation, fan-out, renders), counted by a middleware on the real clients, next to the
 * least the operation needs. Counts, not times: they do not drift with the machine.
 */
export async function storageCallsBench(ctx: BenchContext): Promise<BenchReport> {
  const { stack } = ctx;
  const tenant = await createBenchTenant(stack, 'calls');
  const settle = () =>
    Promise.all([stack.eventsIdle(), stack.webhooksIdle(), stack.previewsIdle(), stack.checksumsIdle()]);
  const count = <T>(work: () => Promise<T>) => ctx.storageCalls.count(work, settle);
  const upload = uploads(tenant);

  const rows: Array<{ operation: string; floor: number; why: string; calls: StorageCall[][] }> = [];
  /** Counts `run` ROUNDS times; what `prepare` does for it first is not counted. */
  const measure = async <P>(
    operation: string,
    floor: number,
    why: string,
    run: (prepared: P) => Promise<unknown>,
    prepare: () => Promise<P> = async () => undefined as P,
  ) => {
    ctx.progress(`storage-calls: ${operation}`);
    const calls: StorageCall[][] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const prepared = await prepare();
      await settle();
      calls.push((await count(() => run(prepared))).calls);
    }
    rows.push({ operation, floor, why, calls });
  };

  await measure('initiate an upload', 1, 'one transaction: file, quota, audit event', () =>
    upload.initiate(),
  );
  await measure(
    'bytes arrive: PUT, the storage event validates',
    4,
    'read the file, HEAD, ranged GET, one transaction (activate + audit)',
    (answer) => upload.put(answer),
    () => upload.initiate(),
  );
  await measure(
    'complete after the event settled it',
    1,
    'read the file: already settled',
    (fileId: string) => upload.complete(fileId),
    async () => upload.put(await upload.initiate()),
  );
  await measure(
    'whole 64 KiB upload as a client does it (initiate, PUT, complete at once)',
    6,
    'initiate 1; validated once (4); the other of complete / event a read',
    async () => upload.complete(await upload.put(await upload.initiate())),
  );
  const fileId = await upload.complete(await upload.put(await upload.initiate()));
  await settle();
  await measure('download URL', 1, 'read the file', () =>
    tenant.invoke('GET', `/v1/files/${fileId}/download`).then((a) => expectStatus(a, 200, 'download')),
  );
  for (let i = 0; i < LISTED; i++) await upload.complete(await upload.put(await upload.initiate()));
  await settle();
  await measure(`list ${LISTED} files of a bucket`, 1, 'one query', () =>
    tenant
      .invoke('GET', `/v1/files?bucketId=${tenant.bucketId}&limit=${LISTED}`)
      .then((a) => expectStatus(a, 200, 'list')),
  );
  const pdfId = await upload.pdf();
  await tenant.invoke('GET', `/v1/files/${pdfId}/preview`);
  await settle();
  await measure('cached preview answer', 1, 'one read', () =>
    tenant.invoke('GET', `/v1/files/${pdfId}/preview`).then((a) => expectStatus(a, 200, 'preview')),
  );

  const tally = (calls: StorageCall[]) => {
    const by = new Map<string, number>();
    for (const c of calls) by.set(c.command, (by.get(c.command) ?? 0) + 1);
    return [...by.entries()]
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .map(([command, n]) => `${n} ${command}`)
      .join(', ');
  };
  const table = rows.map((r) => {
    const totals = r.calls.map((c) => c.length).sort((a, b) => a - b);
    const median = totals[Math.floor(totals.length / 2)] as number;
    const typical = r.calls.find((c) => c.length === median) as StorageCall[];
    return { ...r, median, range: `${totals[0]}-${totals.at(-1)}`, typical: tally(typical) };
  });
  return {
    tables: [
      {
        title: `storage calls per operation (DynamoDB + S3, counted on the stack's clients; median of ${ROUNDS}, background work included)`,
        columns: ['operation', 'calls', 'range', 'floor', 'vs floor', 'what they were', 'the floor'],
        rows: table.map((r) => [
          r.operation,
          String(r.median),
          r.range,
          String(r.floor),
          `${(r.median / r.floor).toFixed(1)}x`,
          r.typical,
          r.why,
        ]),
      },
    ],
    headlines: table.map((r) => ({
      label: `storage calls: ${r.operation}`,
      value: String(r.median),
      target: `floor ${r.floor}`,
    })),
    notes: [
      'The floor is what the operation cannot avoid on DynamoDB + S3 (issue 14); the bucket settings served from a cache count 0.',
    ],
  };
}

/** 64 KiB uploads of opaque bytes (no preview is drawn for them), and one PDF. */
function uploads(tenant: BenchTenant) {
  let n = 0;
  const initiate = async (body: { contentType: string; size: number } = octets) =>
    expectStatus(
      await tenant.invoke('POST', `/v1/buckets/${tenant.bucketId}/uploads`, {
        filename: `calls-${n++}.bin`,
        ...body,
      }),
      201,
      'initiate',
    );
  const send = async (answer: any, bytes: Uint8Array) => {
    const { upload } = answer;
    if (upload.method !== 'PUT') throw new Error(`the bench sends PUT uploads, not ${upload.method}`);
    const res = await fetch(upload.url, {
      method: 'PUT',
      headers: upload.headers,
      body: new Blob([new Uint8Array(bytes)]),
    });
    if (!res.ok) throw new Error(`PUT answered ${res.status}: ${await res.text()}`);
    return answer.file.id as string;
  };
  const complete = async (fileId: string) => {
    const answer = await tenant.invoke('POST', `/v1/files/${fileId}/complete`);
    return expectStatus(answer, 200, 'complete').id as string;
  };
  return {
    initiate: () => initiate(),
    /** PUTs the bytes; the storage event they cause may still be running when it returns. */
    put: (answer: any) => send(answer, randomBytes(octets.size)),
    complete,
    async pdf() {
      const bytes = await pagesPdf(1);
      const answer = await initiate({ contentType: 'application/pdf', size: bytes.byteLength });
      return complete(await send(answer, bytes));
    },
  };
}

const octets = { contentType: 'application/octet-stream', size: 64 * 1024 };
