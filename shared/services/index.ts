import type { Provider } from '../domain/model.js';
import { BucketService } from './bucket-service.js';
import { ConsistencyService } from './consistency-service.js';
import { FileAccessGuard } from './file-access.js';
import { FileService } from './file-service.js';
import { MaintenanceService } from './maintenance-service.js';
import { type PreviewCache, PreviewService } from './preview-service.js';
import { ProviderService } from './provider-service.js';
import { QuotaService } from './quota-service.js';
import { ReferenceService } from './reference-service.js';
import type { ServiceDeps } from './service-deps.js';
import { ShareLinkService } from './share-link-service.js';
import { UploadService } from './upload-service.js';
import { ValidationService } from './validation-service.js';
import { WebhookService } from './webhook-service.js';

export type { PreviewAnswer, PreviewCache, PreviewSweepReport } from './preview-service.js';
export type { PreviewDeps, PreviewSettings, ServiceDeps, ServiceSettings } from './service-deps.js';

/** Every use case, wired to one set of ports. */
export interface Services {
  providers: ProviderService;
  buckets: BucketService;
  uploads: UploadService;
  validation: ValidationService;
  files: FileService;
  references: ReferenceService;
  quota: QuotaService;
  maintenance: MaintenanceService;
  consistency: ConsistencyService;
  previews: PreviewService;
  links: ShareLinkService;
  webhooks: WebhookService;
  /** The preview cache of one tenant as a library (the seed's interface). */
  previewCacheFor(tenantId: string): PreviewCache;
}

export function createServices(deps: ServiceDeps, defaultProvider: Provider): Services {
  const providers = new ProviderService(deps, defaultProvider);
  const buckets = new BucketService(deps, providers);
  const access = new FileAccessGuard(deps);
  const previews = new PreviewService(deps, access);
  const validation = new ValidationService(deps, (file) => previews.scheduleAhead(file));
  const uploads = new UploadService(deps, buckets, access, validation);
  const links = new ShareLinkService(deps, access);
  const files = new FileService(deps, access, previews, links);
  return {
    providers,
    buckets,
    uploads,
    validation,
    files,
    references: new ReferenceService(deps, access, files),
    quota: new QuotaService(deps),
    maintenance: new MaintenanceService(deps, uploads, validation, previews),
    consistency: new ConsistencyService(deps),
    previews,
    links,
    webhooks: new WebhookService(deps),
    previewCacheFor: (tenantId) => previews.cacheFor(tenantId),
  };
}
