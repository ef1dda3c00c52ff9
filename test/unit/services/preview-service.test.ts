import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { Actor, Bucket, FileRecord } from '../../../shared/domain/model.js';
import type { PreviewCounters, PreviewEntry } from '../../../shared/domain/preview.js';
import type { ObjectStore } from '../../../shared/ports/object-store.js';
import { PreviewFailedError, type PreviewRenderer } from '../../../shared/ports/preview-renderer.js';
import type { MetadataStore, PreviewRepository } from '../../../shared/ports/repositories.js';
import { createServices, type PreviewDeps, type ServiceDeps } from '../../../shared/services/index.js';

// The preview rules with in-memory fakes of the ports; the real adapters are exercised by
// test/integration/api-previews.test.ts and preview-cache.test.ts.

const actor: Actor = { tenantId: 'acme', userId: 'alice', roles: ['admin'] };
const bucket = { id: 'bkt1', restricted: false } as Bucket;
const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000320000003200806000000', 'hex');

function aFile(overrides: Partial<FileRecord> = {}): FileRecord {
  return {
    id: 'F1',
    tenantId: 'acme',
    bucketId: 'bkt1',
    providerId: 'default',
    originalName: 'a.pdf',
    mimeType: 'application/pdf',
    declaredMimeType: 'application/pdf',
    size: 10,
    sha256: null,
    status: 'active',
    rejectionReason: null,
    uploadedBy: 'alice',
    createdAt: '2026-11-28T14:00:00.000Z',
    updatedAt: '2026-11-28T14:00:00.000Z',
    deletedAt: null,
    uploadExpiresAt: null,
    multipart: null,
    references: [],
    objectKey: 'tenants/acme/bkt1/F1',
    validatedObject: { etag: '"e"', versionId: null },
    ...overrides,
  };
}

function setup(render: PreviewRenderer['render'], file = aFile(), extra: Partial<PreviewDeps> = {}) {
  const logged: { message: string; fields?: Record<string, unknown> }[] = [];
  const entries = new Map<string, PreviewEntry>();
  const counters: Partial<PreviewCounters> = {};
  const marks: (string | null)[] = [];
  const objects = new Map<string, Uint8Array>();
  const previews: Partial<PreviewRepository> = {
    get: async (_t, fileId, variant) => entries.get(`${fileId}/${variant}`) ?? null,
    save: async (entry) => {
      entries.set(`${entry.fileId}/${entry.variant}`, entry);
      return true;
    },
    count: async (_t, deltas) => {
      for (const [k, n] of Object.entries(deltas))
        counters[k as keyof PreviewCounters] = (counters[k as keyof PreviewCounters] ?? 0) + (n ?? 0);
    },
    markFile: async (_t, _f, _v, status) => void marks.push(status),
    touch: async () => undefined,
  };
  const metadata = {
    files: { get: async () => file },
    buckets: { get: async () => bucket },
    grants: { findForUser: async () => [] },
    events: { record: async () => undefined },
    previews,
  } as unknown as MetadataStore;
  const cache = {
    put: async ({ key, body }: { key: string; body: Uint8Array }) => void objects.set(key, body),
    head: async (key: string) => (objects.has(key) ? { size: objects.get(key)?.byteLength } : null),
    readFirstBytes: async (key: string, n: number) => objects.get(key)?.subarray(0, n) ?? null,
    presignGet: async ({ key }: { key: string }) => `http://cache/${key}`,
    delete: async (key: string) => void objects.delete(key),
  } as unknown as ObjectStore;
  const source = {
    stream: async () => Readable.from([Buffer.from('%PDF-1.4 ...')]),
  } as unknown as ObjectStore;
  let n = 0;
  const deps: ServiceDeps = {
    metadata,
    stores: { defaultStore: () => source, forProvider: async () => source },
    secrets: {} as ServiceDeps['secrets'],
    clock: { now: () => new Date('2026-11-28T15:00:00.000Z') },
    ids: { next: () => `01R${String(++n).padStart(23, '0')}` },
    logger: {
      info: (message: string, fields?: Record<string, unknown>) => void logged.push({ message, fields }),
      warn() {},
      error() {},
    },
    settings: {} as ServiceDeps['settings'],
    previews: {
      renderer: { supports: (t) => t === 'application/pdf', render },
      cache,
      ...extra,
      settings: {
        width: 800,
        maxAgeMs: 1,
        maxCacheBytes: 1,
        urlTtlSeconds: 300,
        retryAfterSeconds: 2,
        ...extra.settings,
      },
    },
  };
  return { services: createServices(deps, { id: 'default' } as never), entries, counters, marks, logged };
}

describe('PreviewService.get', () => {
  it('renders on a miss, caches the PNG, and answers from the cache next time', async () => {
    // Prepare
    const { services, counters } = setup(async () => ({ png: PNG, width: 800, height: 800 }));
    // Act
    const first = await services.previews.get(actor, 'F1');
    const second = await services.previews.get(actor, 'F1');
    // Assess
    expect(first).toMatchObject({ status: 'ready', cached: false, width: 800, height: 800 });
    expect(second).toMatchObject({ status: 'ready', cached: true, url: (first as { url: string }).url });
    expect(counters).toMatchObject({ misses: 1, hits: 1 });
  });

  it('answers 202 (pending, Retry-After) to an ask that comes while the same file renders', async () => {
    let finish: () => void = () => undefined;
    const { services } = setup(
      () =>
        new Promise((done) => {
          finish = () => done({ png: PNG, width: 800, height: 800 });
        }),
    );
    const first = services.previews.get(actor, 'F1');
    await new Promise((r) => setTimeout(r, 10));
    expect(await services.previews.get(actor, 'F1')).toEqual({ status: 'pending', retryAfterSeconds: 2 });
    finish();
    expect(await first).toMatchObject({ cached: false });
  });

  it('records a verdict on the file as a failed entry: 422 with the reason', async () => {
    const { services, entries, counters } = setup(async () => {
      throw new PreviewFailedError('encrypted');
    });
    await expect(services.previews.get(actor, 'F1')).rejects.toMatchObject({
      code: 'PREVIEW_FAILED',
      status: 422,
      details: { reason: 'encrypted' },
    });
    expect([...entries.values()]).toEqual([
      expect.objectContaining({ status: 'failed', reason: 'encrypted' }),
    ]);
    expect(counters.errors).toBe(1);
  });

  it('treats a renderer outage as an error, not a verdict: nothing is remembered, the mark is taken back', async () => {
    const { services, entries, counters, marks } = setup(async () => {
      throw new Error('the render host could not start');
    });
    const error = await services.previews.get(actor, 'F1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as { code?: string }).code).toBeUndefined();
    expect(entries.size).toBe(0);
    expect(counters.errors).toBe(1);
    expect(marks).toEqual(['pending', null]);
  });

  it.each([
    ['a type without a renderer', aFile({ mimeType: 'text/csv' }), 'PREVIEW_NOT_SUPPORTED', 415],
    ['a pending file', aFile({ status: 'pending' }), 'CONFLICT', 409],
    ['a rejected file', aFile({ status: 'rejected' }), 'CONFLICT', 409],
    ['a deleted file', aFile({ status: 'deleted' }), 'NOT_FOUND', 404],
  ])('refuses %s', async (_, file, code, status) => {
    const { services } = setup(async () => ({ png: PNG, width: 800, height: 800 }), file);
    await expect(services.previews.get(actor, 'F1')).rejects.toMatchObject({ code, status });
  });
});

describe('PreviewService.get with on-demand scheduling (the AWS API, which ships no renderer)', () => {
  const scheduling = (file = aFile()) => {
    const scheduled: [string, string][] = [];
    const rendered: unknown[] = [];
    const made = setup(
      async (input) => {
        rendered.push(input);
        return { png: PNG, width: 800, height: 800 };
      },
      file,
      {
        scheduler: { schedule: (tenantId, fileId) => void scheduled.push([tenantId, fileId]) },
        settings: { onDemand: 'schedule' } as PreviewDeps['settings'],
      },
    );
    return { ...made, scheduled, rendered };
  };

  it('answers a miss 202 with Retry-After and hands the render to the scheduler', async () => {
    // Prepare
    const { services, scheduled, rendered, counters } = scheduling();
    // Act
    const answer = await services.previews.get(actor, 'F1');
    // Assess
    expect(answer).toEqual({ status: 'pending', retryAfterSeconds: 2 });
    expect(scheduled).toEqual([['acme', 'F1']]);
    expect(rendered).toEqual([]);
    expect(counters).toMatchObject({ misses: 1 });
  });

  it('does not count the polls that come while the render function draws (the file is marked pending)', async () => {
    const { services, scheduled, counters } = scheduling(aFile({ previewStatus: 'pending' }));
    await services.previews.get(actor, 'F1');
    expect(scheduled).toHaveLength(1);
    expect(counters.misses).toBeUndefined();
  });

  it('serves from the cache once the render function has drawn it', async () => {
    // Prepare: the render function's work, through the same service.
    const { services, counters } = scheduling();
    await services.previews.renderAhead('acme', 'F1');
    // Act
    const answer = await services.previews.get(actor, 'F1');
    // Assess
    expect(answer).toMatchObject({ status: 'ready', cached: true });
    expect(counters).toEqual({ hits: 1 });
  });
});

describe('preview log lines (the dashboard reads hit ratio and render time from them)', () => {
  it('one per miss, per render (with renderMs) and per hit; file ids, no tenant ids', async () => {
    const { services, logged } = setup(async () => ({ png: PNG, width: 800, height: 800 }));
    await services.previews.get(actor, 'F1');
    await services.previews.get(actor, 'F1');
    expect(logged).toEqual([
      { message: 'preview cache', fields: { outcome: 'miss', fileId: 'F1' } },
      {
        message: 'preview rendered',
        fields: {
          outcome: 'ready',
          fileId: 'F1',
          renderMs: expect.any(Number),
          width: 800,
          height: 800,
          bytes: PNG.byteLength,
        },
      },
      { message: 'preview cache', fields: { outcome: 'hit', fileId: 'F1' } },
    ]);
    expect(JSON.stringify(logged)).not.toContain('acme');
  });

  it('a failed render says why', async () => {
    const { services, logged } = setup(async () => {
      throw new PreviewFailedError('encrypted');
    });
    await services.previews.get(actor, 'F1').catch(() => undefined);
    expect(logged).toContainEqual({
      message: 'preview rendered',
      fields: { outcome: 'failed', fileId: 'F1', renderMs: expect.any(Number), reason: 'encrypted' },
    });
  });
});
