import type { Clock, IdGenerator } from '../ports/clock.js';
import type { Logger } from '../ports/logger.js';
import type { ObjectStoreResolver } from '../ports/object-store.js';
import type { MetadataStore } from '../ports/repositories.js';
import type { SecretStore } from '../ports/secret-store.js';

/** What the deployment decides; read from config by the entry point, never from env here. */
export interface ServiceSettings {
  maxFileSize: number;
  multipartThreshold: number;
  minPartSize: number;
  uploadUrlTtlSeconds: number;
  downloadUrlTtlSeconds: number;
  /** Move rejected objects to `quarantine/` rather than deleting them. */
  quarantineRejected: boolean;
  /** The store does not verify or report SHA-256 checksums, so validation reads the object. */
  verifyChecksumByReading: boolean;
  /** How many first bytes validation reads to detect the type. */
  sniffBytes: number;
}

export interface ServiceDeps {
  metadata: MetadataStore;
  stores: ObjectStoreResolver;
  secrets: SecretStore;
  clock: Clock;
  ids: IdGenerator;
  logger: Logger;
  settings: ServiceSettings;
}
