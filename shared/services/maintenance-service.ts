import { type FileRecord, SYSTEM_ACTOR } from '../domain/model.js';
import { AuditTrail } from './audit-trail.js';
import type { PreviewService, PreviewSweepReport } from './preview-service.js';
import { removeRecord } from './remove-record.js';
import type { ServiceDeps } from './service-deps.js';
import type { UploadService } from './upload-service.js';
import type { ValidationService } from './validation-service.js';

export interface MaintenanceReport {
  purged: number;
  abandoned: number;
  /** Pending uploads whose bytes had arrived but whose event was lost: validated now. */
  validated: number;
  errors: number;
}

const DAY_MS = 86_400_000;
/** An upload that began just before its URL expired may still be sending bytes. */
const PENDING_GRACE_MS = 3_600_000;

/**
 * The scheduled sweep: purges soft-deleted files past their bucket's retention (read now, at
 * purge time) and abandons uploads whose instructions expired. Each step is a conditional
 * transition, so overlapping runs, or a restore racing a purge, change nothing twice.
 */
export class MaintenanceService {
  private readonly audit: AuditTrail;

  constructor(
    private readonly deps: ServiceDeps,
    private readonly uploads: UploadService,
    private readonly validation: ValidationService,
    private readonly previews?: PreviewService,
  ) {
    this.audit = new AuditTrail(deps);
  }

  async run(): Promise<MaintenanceReport> {
    const report: MaintenanceReport = { purged: 0, abandoned: 0, validated: 0, errors: 0 };
    const now = this.deps.clock.now();
    await this.sweep('deleted', now.toISOString(), report, (file) => this.purgeIfExpired(file, now, report));
    const pendingBefore = new Date(now.getTime() - PENDING_GRACE_MS).toISOString();
    await this.sweep('pending', pendingBefore, report, (file) => this.settleExpiredUpload(file, report));
    const previews = await this.sweepPreviews(now);
    report.errors += previews.errors;
    this.deps.logger.info('maintenance run', {
      ...report,
      previewsExpired: previews.expired,
      previewsEvicted: previews.evicted,
    });
    return report;
  }

  /** Preview cache entries past the maximum age, then each tenant's cache down to its byte cap. */
  async sweepPreviews(now = this.deps.clock.now()): Promise<PreviewSweepReport> {
    if (!this.previews) return { expired: 0, evicted: 0, errors: 0 };
    try {
      return await this.previews.sweep(now);
    } catch (error) {
      this.deps.logger.error('preview sweep failed', { error: String(error) });
      return { expired: 0, evicted: 0, errors: 1 };
    }
  }

  private async sweep(
    kind: 'pending' | 'deleted',
    before: string,
    report: MaintenanceReport,
    visit: (file: FileRecord) => Promise<void>,
  ): Promise<void> {
    let cursor: string | undefined;
    do {
      const page = await this.deps.metadata.files.listSweepable(kind, before, { limit: 100, cursor });
      for (const file of page.items) {
        try {
          await visit(file);
        } catch (error) {
          report.errors += 1;
          this.deps.logger.error('maintenance step failed', { kind, fileId: file.id, error: String(error) });
        }
      }
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
  }

  private async purgeIfExpired(file: FileRecord, now: Date, report: MaintenanceReport): Promise<void> {
    const bucket = await this.deps.metadata.buckets.get(file.tenantId, file.bucketId);
    const retentionDays = bucket?.retentionDays ?? 0;
    const deletedAt = Date.parse(file.deletedAt ?? file.updatedAt);
    if (deletedAt + retentionDays * DAY_MS > now.getTime()) return;
    // Metadata first: a restore that wins the race keeps its object.
    const { metadata } = this.deps;
    const purged = this.audit.event({
      type: 'file.purged',
      actor: SYSTEM_ACTOR,
      fileId: file.id,
      providerId: file.providerId,
      details: { size: file.size, retentionDays },
    });
    if (!(await removeRecord(metadata, file, (f) => metadata.files.purge(f, purged)))) return;
    const store = await this.deps.stores.forProvider(file.tenantId, file.providerId);
    // With the record gone nothing else remembers these: one failing must not skip the other.
    const cleanup = await Promise.allSettled([
      store.delete(file.objectKey),
      metadata.references.removeAllForFile(file.tenantId, file.id, file.references),
    ]);
    for (const step of cleanup) if (step.status === 'rejected') throw step.reason;
    report.purged += 1;
    // Soft delete dropped them already; this catches any that a failure there left behind.
    try {
      await this.previews?.dropForFile(file.tenantId, file.id);
    } catch (error) {
      report.errors += 1;
      this.deps.logger.error('previews of a purged file not dropped', {
        fileId: file.id,
        error: String(error),
      });
    }
  }

  private async settleExpiredUpload(file: FileRecord, report: MaintenanceReport): Promise<void> {
    // A single-request upload whose bytes arrived but whose event was lost is validated, not lost;
    // so is one whose background checksum job or malware scan was lost (it is handed on again).
    if (!file.multipart || file.verifying || file.scan === 'pending') {
      const outcome = await this.validation.validateArrival(file, SYSTEM_ACTOR);
      if (outcome.kind !== 'missing') {
        report.validated += 1;
        return;
      }
    }
    if (await this.uploads.discardPending(file, SYSTEM_ACTOR)) report.abandoned += 1;
  }
}
