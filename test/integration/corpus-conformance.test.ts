import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { hasKnownSignature } from '../../shared/domain/content-type-detection.js';
import { isTextFormat } from '../../shared/domain/text-content.js';
import { type Client, client, newTenant, sendBytes } from '../support/api.js';

/**
 * Issue 11, item 4: every file of the shared corpus (../shared/corpus, real files from public
 * test corpora) goes through the running stack three times: declared with the type a browser
 * gives its extension in a bucket for any type, and declared as PDF and as PNG in buckets that
 * allow only those. It prints the false rejects and false accepts, and fails on any.
 */
const CORPUS = join(process.cwd(), '..', 'shared', 'corpus');
const present = existsSync(join(CORPUS, 'MANIFEST.tsv'));

interface Row {
  path: string;
  browserType: string;
  trueType: string;
  valid: boolean;
  family: string;
}

const rows: Row[] = present
  ? readFileSync(join(CORPUS, 'MANIFEST.tsv'), 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => line.split('\t'))
      .map((c) => ({
        path: c[0] as string,
        browserType: c[6] || 'application/octet-stream',
        trueType: c[7] as string,
        valid: c[8] === 'yes',
        family: c[9] as string,
      }))
  : [];

/**
 * Whether the contract wants the file accepted as its browser type: its bytes are what the
 * label says, except a text file whose extension names a format with a signature
 * (`fixture-json.webp`, JSON named `.webp`: a signed type whose bytes lack the signature is
 * MIME_TYPE_MISMATCH, API.md 6). A file broken on purpose (`valid` no) may go either way: it is
 * no spoof, and where its signature survives it is accepted and its preview fails.
 */
const shouldAccept = (row: Row) => !(hasKnownSignature(row.browserType) && isTextFormat(row.trueType));

async function uploadAs(api: Client, bucketId: string, row: Row, contentType: string, bytes: Buffer) {
  const started = await api.post(`/v1/buckets/${bucketId}/uploads`, {
    filename: basename(row.path),
    contentType,
    size: bytes.length,
  });
  // A bucket that does not allow the declared type refuses it before anything is stored.
  if (started.status === 415)
    return { status: 'refused', mimeType: '', reason: started.body?.code as string };
  expect(started.status, `${row.path}: ${JSON.stringify(started.body)}`).toBe(201);
  const sent = await sendBytes(started.body.upload, bytes);
  expect(sent.ok, `${row.path}: upload ${sent.status}`).toBe(true);
  const done = await api.post(`/v1/files/${started.body.file.id}/complete`, {});
  expect(done.status, `${row.path}: ${JSON.stringify(done.body)}`).toBe(200);
  return {
    status: done.body.status as string,
    mimeType: done.body.mimeType as string,
    reason: done.body.rejectionReason,
  };
}

/** Runs `work` over `items`, `width` at a time (the stack runs on two shared cores). */
async function pooled<T>(items: readonly T[], width: number, work: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await work(items[next++] as T);
    }),
  );
}

describe.skipIf(!present)('the shared corpus through the running stack', () => {
  let admin: Client;
  const buckets: Record<'any' | 'pdf' | 'png', string> = { any: '', pdf: '', png: '' };

  beforeAll(async () => {
    admin = await client(newTenant('corpus'), 'alice', ['admin']);
    const make = async (name: string, allowedMimeTypes?: string[]) =>
      (await admin.post('/v1/buckets', { name, ...(allowedMimeTypes ? { allowedMimeTypes } : {}) })).body.id;
    buckets.any = await make('Anything');
    buckets.pdf = await make('PDF only', ['application/pdf']);
    buckets.png = await make('PNG only', ['image/png']);
  });

  it('accepts each honest file as its browser type, stored lowercase without parameters, and no spoof as PDF or PNG', async () => {
    const falseRejects: string[] = [];
    const falseAccepts: string[] = [];
    const badTypes: string[] = [];
    const broken: string[] = [];
    await pooled(rows, 8, async (row) => {
      const bytes = readFileSync(join(CORPUS, row.path));
      const asBrowser = await uploadAs(admin, buckets.any, row, row.browserType, bytes);
      const accepted = asBrowser.status === 'active';
      if (!row.valid) broken.push(`${row.path}: ${asBrowser.status} ${asBrowser.reason ?? ''}`);
      else if (shouldAccept(row) && !accepted)
        falseRejects.push(`${row.path} as ${row.browserType}: ${asBrowser.reason}`);
      if (!shouldAccept(row) && accepted) falseAccepts.push(`${row.path} as ${row.browserType}`);
      if (accepted && !/^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/.test(asBrowser.mimeType))
        badTypes.push(`${row.path}: ${asBrowser.mimeType}`);
      for (const [bucket, declared] of [
        ['pdf', 'application/pdf'],
        ['png', 'image/png'],
      ] as const) {
        const honest = row.trueType === declared || row.browserType === declared;
        const got = await uploadAs(admin, buckets[bucket], row, declared, bytes);
        if (got.status === 'active' && !honest) falseAccepts.push(`${row.path} as ${declared}`);
        if (got.status !== 'active' && honest && row.valid)
          falseRejects.push(`${row.path} as ${declared}: ${got.reason}`);
      }
    });
    const honest = rows.filter((r) => r.valid && shouldAccept(r)).length;
    console.log(
      [
        `corpus: ${rows.length} files, ${honest} to accept as their browser type`,
        `false rejects: ${falseRejects.length} (${((100 * falseRejects.length) / honest).toFixed(2)} %)`,
        ...falseRejects.map((l) => `  ${l}`),
        `false accepts: ${falseAccepts.length}`,
        ...falseAccepts.map((l) => `  ${l}`),
        `broken on purpose (either answer is right): ${broken.join(', ') || 'none'}`,
      ].join('\n'),
    );
    expect(badTypes).toEqual([]);
    expect(falseAccepts).toEqual([]);
    // The aim is under 1 % of the corpus.
    expect(falseRejects.length).toBeLessThan(rows.length / 100);
  }, 900_000);
});

describe.skipIf(present)('the shared corpus', () => {
  it.skip('is absent (../shared/corpus/MANIFEST.tsv not found): the conformance run did not happen', () => {});
});
