import { requireRole } from '../domain/access.js';
import {
  conflict,
  notFound,
  previewFailed,
  previewNotSupported,
  StowageError,
  validationFailed,
} from '../domain/errors.js';
import { objectKeys } from '../domain/keys.js';
import { type Actor, type FileRecord, SYSTEM_ACTOR } from '../domain/model.js';
import {
  PNG_HEADER_BYTES,
  type PreviewEntry,
  type PreviewMetrics,
  previewMetrics,
  previewVariant,
  readPngHeader,
  ZERO_PREVIEW_COUNTERS,
} from '../domain/preview.js';
import { PreviewFailedError } from '../ports/preview-renderer.js';
import type { PreviewRepository } from '../ports/repositories.js';
import { AuditTrail } from './audit-trail.js';
import type { FileAccessGuard } from './file-access.js';
import type { PreviewDeps, ServiceDeps } from './service-deps.js';

export type PreviewAnswer =
  | {
      status: 'ready';
      url: string;
      expiresAt: string;
      contentType: 'image/png';
      width: number;
      height: number;
      cached: boolean;
    }
  | { status: 'pending'; retryAfterSeconds: number };

/**
 * The preview cache as a library, for code that wants it without HTTP (the seed's interface).
 * It trusts its caller: no roles or grants are checked.
 */
export interface PreviewCache {
  /** Whether the file's current preview is cached and intact. */
  exists(fileId: string): Promise<boolean>;
  /** A presigned URL of the cached PNG (a hit), or null (a miss); never renders. */
  get(fileId: string): Promise<string | null>;
  /** Caches a PNG drawn elsewhere as the file's current preview. */
  set(fileId: string, png: Uint8Array): Promise<void>;
  getMetrics(): Promise<PreviewMetrics>;
  /** Removes every cached preview of the tenant; the counters stay. */
  purge(): Promise<void>;
}

export interface PreviewSweepReport {
  expired: number;
  evicted: number;
  errors: number;
}

const PAGE = 100;

/**
 * Previews (API.md section 9): rendered once, on demand or ahead of time, then served from the
 * cache bucket by presigned URL. Cache entries and counters are in the metadata store; a cached
 * object that is missing or not the PNG its entry describes is counted as an error and rendered
 * again rather than served.
 */
export class PreviewService {
  private readonly audit: AuditTrail;
  private readonly previews: PreviewDeps | undefined;
  /** Renders running in this process, by tenant, file and variant: a second ask is answered 202. */
  private readonly inFlight = new Map<string, Promise<PreviewEntry | null>>();

  constructor(
    private readonly deps: ServiceDeps,
    private readonly access: FileAccessGuard,
  ) {
    this.audit = new AuditTrail(deps);
    this.previews = deps.previews;
  }

  private get repo(): PreviewRepository {
    return this.deps.metadata.previews;
  }

  /** `GET /v1/files/{fileId}/preview`. */
  async get(actor: Actor, fileId: string): Promise<PreviewAnswer> {
    requireRole(actor, 'viewer');
    const { file } = await this.access.visible(actor, fileId);
    const previews = this.previewable(file);
    const variant = previewVariant(file, previews.settings.width);
    const entry = await this.repo.get(file.tenantId, file.id, variant);
    if (entry?.status === 'failed') throw previewFailed(entry.reason ?? 'unknown');
    if (entry && (await this.intact(entry))) return this.serve(entry, true);

    const pending = { status: 'pending', retryAfterSeconds: previews.settings.retryAfterSeconds } as const;
    if (this.inFlight.has(flightKey(file, variant))) return pending;
    if (previews.settings.onDemand === 'schedule' && previews.scheduler) {
      // Drawn by another process (the render function); polls while it is under way are not misses.
      if (file.previewStatus !== 'pending') await this.countMiss(file);
      previews.scheduler.schedule(file.tenantId, file.id, file.mimeType);
      return pending;
    }
    // In flight before anything is awaited, so a concurrent ask is answered 202.
    const rendering = this.renderOnce(file, variant, actor.userId);
    const [, rendered] = await Promise.all([this.countMiss(file), rendering]);
    if (!rendered) throw conflict('The file changed while its preview was rendered; try again.');
    if (rendered.status === 'failed') throw previewFailed(rendered.reason ?? 'unknown');
    return this.serve(rendered, false);
  }

  /** `DELETE /v1/files/{fileId}/preview`: drops every cached variant; the next ask renders again. */
  async delete(actor: Actor, fileId: string): Promise<void> {
    requireRole(actor, 'member');
    const { file } = await this.access.changeable(actor, fileId);
    if (file.status === 'deleted') throw notFound('The file');
    await this.dropForFile(file.tenantId, file.id);
  }

  /** `DELETE /v1/previews`. */
  async purge(actor: Actor): Promise<void> {
    requireRole(actor, 'admin');
    await this.purgeTenant(actor.tenantId);
  }

  /** `GET /v1/previews/metrics`: reading the cache's counters is managing the cache (API.md section 1). */
  async metrics(actor: Actor): Promise<PreviewMetrics> {
    requireRole(actor, 'admin');
    return this.metricsOf(actor.tenantId);
  }

  /** The seed's library interface, for one tenant. */
  cacheFor(tenantId: string): PreviewCache {
    const current = async (fileId: string) => {
      const file = await this.deps.metadata.files.get(tenantId, fileId);
      if (file?.status !== 'active' || !this.previews?.renderer.supports(file.mimeType)) return null;
      const variant = previewVariant(file, this.previews.settings.width);
      return { file, variant, entry: await this.repo.get(tenantId, fileId, variant) };
    };
    return {
      exists: async (fileId) => {
        const found = await current(fileId);
        return found?.entry?.status === 'ready' && (await this.intact(found.entry));
      },
      get: async (fileId) => {
        const found = await current(fileId);
        if (found?.entry?.status === 'ready' && (await this.intact(found.entry)))
          return (await this.serve(found.entry, true)).url;
        if (found) await this.countMiss(found.file);
        return null;
      },
      set: async (fileId, png) => {
        const header = readPngHeader(png);
        if (!header) throw validationFailed('A preview must be a PNG image.');
        const found = await current(fileId);
        if (!found) throw notFound('An active file with a preview type');
        const entry = this.newEntry(found.file, found.variant, {
          status: 'ready',
          size: png.byteLength,
          ...header,
        });
        await (this.previews as PreviewDeps).cache.put({
          key: entry.objectKey,
          body: png,
          contentType: 'image/png',
        });
        if (!(await this.repo.save(entry))) {
          await (this.previews as PreviewDeps).cache.delete(entry.objectKey);
          throw conflict('The file changed meanwhile; its preview was not kept.');
        }
      },
      getMetrics: () => this.metricsOf(tenantId),
      purge: () => this.purgeTenant(tenantId),
    };
  }

  /**
   * Ahead of time, for a file that just became active (the scheduler's target). Never throws:
   * a preview not rendered now is rendered when it is first asked for.
   */
  async renderAhead(tenantId: string, fileId: string): Promise<void> {
    try {
      const file = await this.deps.metadata.files.get(tenantId, fileId);
      if (file?.status !== 'active' || !this.previews?.renderer.supports(file.mimeType)) return;
      const variant = previewVariant(file, this.previews.settings.width);
      if (await this.repo.get(tenantId, fileId, variant)) return;
      await this.renderOnce(file, variant, SYSTEM_ACTOR);
    } catch (error) {
      this.deps.logger.error('preview not rendered ahead', { tenantId, fileId, error: String(error) });
    }
  }

  /** Asks the scheduler (if any) to render the file's preview ahead of time. */
  scheduleAhead(file: Pick<FileRecord, 'tenantId' | 'id' | 'mimeType'>): void {
    const previews = this.previews;
    if (!previews?.scheduler || !previews.renderer.supports(file.mimeType)) return;
    try {
      previews.scheduler.schedule(file.tenantId, file.id, file.mimeType);
    } catch (error) {
      this.deps.logger.error('preview not scheduled', { fileId: file.id, error: String(error) });
    }
  }

  /** Removes every variant of a file's preview (soft delete, purge, an explicit drop). */
  async dropForFile(tenantId: string, fileId: string): Promise<void> {
    if (!this.previews) return;
    const cache = this.previews.cache;
    const entries = await this.repo.listForFile(tenantId, fileId);
    // Objects first: an entry whose object is gone is detected on read; the reverse would leak.
    const strays = await cache.list({ prefix: objectKeys.previewPrefix(tenantId, fileId), limit: 1000 });
    await cache.deleteMany([
      ...new Set([...entries.map((e) => e.objectKey), ...strays.objects.map((o) => o.key)]),
    ]);
    for (const entry of entries) await this.repo.remove(entry);
  }

  /**
   * Maintenance: entries older than the maximum age go (in AWS the bucket's lifecycle rule has
   * removed their objects already), then each tenant's cache above the byte cap loses its least
   * recently used previews until it fits.
   */
  async sweep(now: Date): Promise<PreviewSweepReport> {
    const report: PreviewSweepReport = { expired: 0, evicted: 0, errors: 0 };
    if (!this.previews) return report;
    const { maxAgeMs, maxCacheBytes } = this.previews.settings;
    const before = new Date(now.getTime() - maxAgeMs).toISOString();
    let cursor: string | undefined;
    do {
      const tenants = await this.repo.listTenants({ limit: PAGE, cursor });
      for (const tenantId of tenants.items) {
        try {
          report.expired += await this.expire(tenantId, before, report);
          report.evicted += await this.evict(tenantId, maxCacheBytes, report);
        } catch (error) {
          report.errors += 1;
          this.deps.logger.error('preview sweep failed', { tenantId, error: String(error) });
        }
      }
      cursor = tenants.nextCursor ?? undefined;
    } while (cursor);
    return report;
  }

  private async expire(tenantId: string, before: string, report: PreviewSweepReport): Promise<number> {
    let removed = 0;
    let cursor: string | undefined;
    do {
      const page = await this.repo.listCreatedBefore(tenantId, before, { limit: PAGE, cursor });
      for (const entry of page.items) if (await this.removeEntry(entry, report)) removed += 1;
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return removed;
  }

  private async evict(tenantId: string, maxBytes: number, report: PreviewSweepReport): Promise<number> {
    let bytes = (await this.repo.counters(tenantId)).bytes;
    let removed = 0;
    let cursor: string | undefined;
    while (bytes > maxBytes) {
      const page = await this.repo.listByAccess(tenantId, { limit: PAGE, cursor });
      for (const entry of page.items) {
        if (bytes <= maxBytes) break;
        if (entry.status !== 'ready') continue;
        if (await this.removeEntry(entry, report)) {
          bytes -= entry.size;
          removed += 1;
        }
      }
      cursor = page.nextCursor ?? undefined;
      if (!cursor) break;
    }
    return removed;
  }

  private async removeEntry(entry: PreviewEntry, report: PreviewSweepReport): Promise<boolean> {
    try {
      await this.previews?.cache.delete(entry.objectKey);
      return await this.repo.remove(entry);
    } catch (error) {
      report.errors += 1;
      this.deps.logger.error('preview not removed', { fileId: entry.fileId, error: String(error) });
      return false;
    }
  }

  private async purgeTenant(tenantId: string): Promise<void> {
    if (!this.previews) return;
    const cache = this.previews.cache;
    let cursor: string | undefined;
    do {
      const page = await this.repo.listByAccess(tenantId, { limit: PAGE, cursor });
      await cache.deleteMany(page.items.map((entry) => entry.objectKey));
      for (const entry of page.items) await this.repo.remove(entry);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    // Objects of renders that crashed before their entry was written.
    let objects: string | undefined;
    do {
      const listing = await cache.list({ prefix: objectKeys.previewPrefix(tenantId), cursor: objects });
      await cache.deleteMany(listing.objects.map((o) => o.key));
      objects = listing.nextCursor ?? undefined;
    } while (objects);
  }

  /** One log line per miss (and per hit, in `serve`): the dashboard's hit ratio reads them. */
  private async countMiss(file: FileRecord): Promise<void> {
    this.deps.logger.info('preview cache', { outcome: 'miss', fileId: file.id });
    await this.repo.count(file.tenantId, { misses: 1 });
  }

  private async metricsOf(tenantId: string): Promise<PreviewMetrics> {
    if (!this.previews) return previewMetrics(ZERO_PREVIEW_COUNTERS);
    return previewMetrics(await this.repo.counters(tenantId));
  }

  /** The checks of API.md section 9 before anything is read from the cache. */
  private previewable(file: FileRecord): PreviewDeps {
    if (file.status === 'deleted') throw notFound('The file');
    if (file.status !== 'active') throw conflict(`The file is ${file.status} and has no preview.`);
    if (!this.previews?.renderer.supports(file.mimeType)) throw previewNotSupported(file.mimeType);
    return this.previews;
  }

  /**
   * Whether the cached object is the PNG its entry describes (size, signature, dimensions).
   * One that is not is counted as an error and its entry removed, so it is rendered again.
   */
  private async intact(entry: PreviewEntry): Promise<boolean> {
    const cache = (this.previews as PreviewDeps).cache;
    const [head, first] = await Promise.all([
      cache.head(entry.objectKey),
      cache.readFirstBytes(entry.objectKey, PNG_HEADER_BYTES),
    ]);
    const png = first ? readPngHeader(first) : null;
    if (head?.size === entry.size && png?.width === entry.width && png.height === entry.height) return true;
    this.deps.logger.warn('cached preview missing or corrupt; rendering it again', {
      tenantId: entry.tenantId,
      fileId: entry.fileId,
      variant: entry.variant,
      found: head ? { size: head.size, png: png !== null } : null,
    });
    await Promise.all([this.repo.count(entry.tenantId, { errors: 1 }), this.repo.remove(entry)]);
    return false;
  }

  /** A presigned URL of a cached preview; a hit also moves the entry up the LRU order. */
  private async serve(entry: PreviewEntry, cached: boolean): Promise<PreviewAnswer & { status: 'ready' }> {
    const { cache, settings } = this.previews as PreviewDeps;
    const now = this.deps.clock.now();
    if (cached) this.deps.logger.info('preview cache', { outcome: 'hit', fileId: entry.fileId });
    const [url] = await Promise.all([
      cache.presignGet({
        key: entry.objectKey,
        expiresInSeconds: settings.urlTtlSeconds,
        responseContentType: 'image/png',
      }),
      ...(cached
        ? [this.repo.touch(entry, now.toISOString()), this.repo.count(entry.tenantId, { hits: 1 })]
        : []),
    ]);
    return {
      status: 'ready',
      url,
      expiresAt: new Date(now.getTime() + settings.urlTtlSeconds * 1000).toISOString(),
      contentType: 'image/png',
      width: entry.width,
      height: entry.height,
      cached,
    };
  }

  /** One render per file variant at a time in this process; a second caller shares the first. */
  private renderOnce(file: FileRecord, variant: string, actor: string): Promise<PreviewEntry | null> {
    const key = flightKey(file, variant);
    const running = this.inFlight.get(key);
    if (running) return running;
    const work = this.render(file, variant, actor).finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, work);
    return work;
  }

  /**
   * Renders, caches and records one preview. A file the renderer cannot draw gets a `failed`
   * entry (422 until its preview is deleted); null when the file stopped being active meanwhile.
   */
  private async render(file: FileRecord, variant: string, actor: string): Promise<PreviewEntry | null> {
    const { renderer, cache, settings } = this.previews as PreviewDeps;
    const { tenantId } = file;
    await this.repo.markFile(tenantId, file.id, variant, 'pending');
    const started = performance.now();
    try {
      const store = await this.deps.stores.forProvider(tenantId, file.providerId);
      const body = await store.stream(file.objectKey, file.validatedObject ?? undefined);
      if (!body) throw new StowageError('INTERNAL', `The bytes of active file ${file.id} are missing.`);
      const out = await renderer.render({
        bytes: body,
        size: file.size,
        mimeType: file.mimeType,
        ...(file.declaredCharset ? { charset: file.declaredCharset } : {}),
        width: settings.width,
      });
      const renderMs = performance.now() - started;
      const entry = this.newEntry(file, variant, {
        status: 'ready',
        size: out.png.byteLength,
        width: out.width,
        height: out.height,
        renderMs,
      });
      await cache.put({ key: entry.objectKey, body: out.png, contentType: 'image/png' });
      this.logRender(entry);
      if (!(await this.repo.save(entry, { renderMs }))) {
        await cache.delete(entry.objectKey);
        return null;
      }
      await this.audit.record(tenantId, {
        type: 'preview.rendered',
        actor,
        fileId: file.id,
        providerId: file.providerId,
        latencyMs: Math.round(renderMs),
        details: { variant, width: entry.width, height: entry.height, size: entry.size },
      });
      return entry;
    } catch (error) {
      await this.repo.count(tenantId, { errors: 1 }).catch(() => undefined);
      if (!(error instanceof PreviewFailedError)) {
        // An outage, not a verdict: the file shows no preview, and the next ask tries again.
        await this.repo.markFile(tenantId, file.id, variant, null).catch(() => undefined);
        throw error;
      }
      const renderMs = performance.now() - started;
      const entry = this.newEntry(file, variant, { status: 'failed', reason: error.reason, renderMs });
      this.logRender(entry);
      const saved = await this.repo.save(entry);
      await this.audit.record(tenantId, {
        type: 'preview.failed',
        actor,
        fileId: file.id,
        providerId: file.providerId,
        status: 'error',
        latencyMs: Math.round(renderMs),
        details: { variant, reason: error.reason },
      });
      return saved ? entry : null;
    }
  }

  /** One line per render, with its time: the dashboard's render-time graph reads them. */
  private logRender(entry: PreviewEntry): void {
    this.deps.logger.info('preview rendered', {
      outcome: entry.status,
      fileId: entry.fileId,
      renderMs: entry.renderMs,
      ...(entry.status === 'ready'
        ? { width: entry.width, height: entry.height, bytes: entry.size }
        : { reason: entry.reason }),
    });
  }

  private newEntry(
    file: FileRecord,
    variant: string,
    result: Partial<Pick<PreviewEntry, 'size' | 'width' | 'height' | 'reason' | 'renderMs'>> &
      Pick<PreviewEntry, 'status'>,
  ): PreviewEntry {
    const at = this.deps.clock.now().toISOString();
    return {
      tenantId: file.tenantId,
      fileId: file.id,
      variant,
      status: result.status,
      reason: result.reason ?? null,
      size: result.size ?? 0,
      width: result.width ?? 0,
      height: result.height ?? 0,
      objectKey: objectKeys.preview(file.tenantId, file.id, variant),
      createdAt: at,
      lastAccessAt: at,
      renderMs: result.renderMs == null ? null : Math.round(result.renderMs),
      renderId: this.deps.ids.next(),
    };
  }
}

const flightKey = (file: Pick<FileRecord, 'tenantId' | 'id'>, variant: string) =>
  `${file.tenantId}/${file.id}/${variant}`;
