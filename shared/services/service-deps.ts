import type { Clock, IdGenerator } from '../ports/clock.js';
import type { FileJobScheduler } from '../ports/file-job-scheduler.js';
import type { HostResolver } from '../ports/host-resolver.js';
import type { Logger } from '../ports/logger.js';
import type { MalwareScanner } from '../ports/malware-scanner.js';
import type { ObjectStore, ObjectStoreResolver } from '../ports/object-store.js';
import type { PreviewRenderer } from '../ports/preview-renderer.js';
import type { PreviewScheduler } from '../ports/preview-scheduler.js';
import type { MetadataStore } from '../ports/repositories.js';
import type { SecretStore } from '../ports/secret-store.js';

/** What the deployment decides; read from config by the entry point, never from env here. */
export interface ServiceSettings {
  maxFileSize: number;
  multipartThreshold: number;
  minPartSize: number;
  /** Lifetime of a single PUT/POST upload URL: enough for a browser to start sending. */
  uploadUrlTtlSeconds: number;
  /** Lifetime of multipart part URLs. */
  partUrlTtlSeconds: number;
  downloadUrlTtlSeconds: number;
  /** Move rejected objects to `quarantine/` rather than deleting them (size rejections are deleted). */
  quarantineRejected: boolean;
  /** How many first bytes validation reads to detect the type. */
  sniffBytes: number;
  /**
   * `FILESTORE_ALLOWED_ENDPOINTS`, canonical: the only origins a tenant's provider endpoint may
   * name without being https on public addresses (API.md section 13.7). @default []
   */
  allowedEndpoints?: readonly string[];
}

export interface PreviewSettings {
  /** Width of every preview in pixels (API.md section 9: a fixed width, aspect kept). */
  width: number;
  /** `PREVIEW_CACHE_MAX_AGE`: entries older than this are expired by maintenance. */
  maxAgeMs: number;
  /** `PREVIEW_CACHE_MAX_SIZE`: each tenant's cache above this is trimmed, least recently used first. */
  maxCacheBytes: number;
  /** Lifetime of a preview URL. */
  urlTtlSeconds: number;
  /** `Retry-After` of a 202 while a render is in flight. */
  retryAfterSeconds: number;
  /**
   * A miss is drawn while the request waits (`render`, the default), or handed to the scheduler
   * and answered 202 (`schedule`: where the renderer runs elsewhere, as in the AWS deployment).
   */
  onDemand?: 'render' | 'schedule';
}

/** What previews need besides the common ports. */
export interface PreviewDeps {
  renderer: PreviewRenderer;
  /** The cache bucket (`previewBucket`), which holds nothing but previews. */
  cache: ObjectStore;
  /** Ahead-of-time rendering of files that become active; none: on demand only. */
  scheduler?: PreviewScheduler;
  settings: PreviewSettings;
}

export interface ServiceDeps {
  metadata: MetadataStore;
  stores: ObjectStoreResolver;
  secrets: SecretStore;
  clock: Clock;
  ids: IdGenerator;
  logger: Logger;
  /** Resolves endpoint hosts at creation; absent: only allow-listed origins and public IPs pass. */
  resolver?: HostResolver;
  settings: ServiceSettings;
  /**
   * Runs the background check of a declared sha256 that storage did not verify, for objects over
   * INLINE_CHECKSUM_MAX_BYTES (API.md 13.2). Absent: such objects are hashed where they are
   * validated (unit tests only; every entry point composes one).
   */
  checksums?: FileJobScheduler;
  /**
   * The malware scanner (API.md 13.6) and where its scans run: a queue in this process (clamd,
   * the local stack); absent `jobs`, the scan runs where the file is validated (GuardDuty, whose
   * answer is only read). Absent: no bucket may require a scan.
   */
  malware?: { scanner: MalwareScanner; jobs?: FileJobScheduler };
  /** Previews (API.md section 9); without them every preview is 415 and nothing is cached. */
  previews?: PreviewDeps;
}
