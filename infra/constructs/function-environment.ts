/**
 * What the deployment tells every function, in the variable names readConfig
 * (functions/lib/config.ts) reads. Typed here so the construct cannot pass a number where a
 * name belongs or forget a variable; test/unit/infra checks that readConfig parses the result.
 */
export interface FunctionSettings {
  tableName: string;
  uploadsBucket: string;
  previewBucket: string;
  /** Provider credentials live at `${secretsPrefix}/{tenantId}/providers/{providerId}`. */
  secretsPrefix: string;
  tenantClaim: string;
  rolesClaim: string;
  maxFileSizeBytes: number;
  quarantineRejected: boolean;
  previewCacheMaxAgeMs: number;
  previewCacheMaxSizeBytes: number;
}

export function functionEnvironment(settings: FunctionSettings): Record<string, string> {
  return {
    TABLE_NAME: settings.tableName,
    UPLOADS_BUCKET: settings.uploadsBucket,
    PREVIEW_BUCKET: settings.previewBucket,
    // Its presence selects Secrets Manager over the local encrypted file.
    SECRETS_PREFIX: settings.secretsPrefix,
    JWT_TENANT_CLAIM: settings.tenantClaim,
    JWT_ROLES_CLAIM: settings.rolesClaim,
    FILESTORE_MAX_FILE_SIZE: String(settings.maxFileSizeBytes),
    FILESTORE_QUARANTINE_REJECTED: String(settings.quarantineRejected),
    PREVIEW_CACHE_MAX_AGE: String(settings.previewCacheMaxAgeMs),
    PREVIEW_CACHE_MAX_SIZE: String(settings.previewCacheMaxSizeBytes),
  };
}

/** Where the tenant-scoped STS sessions come from (functions/lib/config.ts `tenantIsolation`). */
export interface TenantIsolationSettings {
  /** Sessions are tagged with the tenant; the role's own policy scopes by that tag. */
  roleArn: string;
}

/**
 * For functions whose S3, DynamoDB and Secrets Manager calls run in a tenant's STS session.
 * Role chaining caps such a session at one hour, and a presigned URL dies with the session that
 * signed it: upload URLs live 10 minutes and part URLs 15, so sessions are renewed after about
 * 44 minutes and every URL handed out stays valid for its whole lifetime.
 */
export function tenantIsolationEnvironment(settings: TenantIsolationSettings): Record<string, string> {
  return {
    TENANT_ROLE_ARN: settings.roleArn,
    FILESTORE_UPLOAD_URL_TTL_SECONDS: '600',
    FILESTORE_PART_URL_TTL_SECONDS: '900',
  };
}

/** How a function gets previews drawn: by the render function, invoked asynchronously. */
export function previewSchedulingEnvironment(settings: {
  renderFunctionName: string;
  /** The function with Chromium: SVG, text and HTML go there (`PREVIEW_BROWSER=lambda`). */
  browserFunctionName?: string;
  /** The API answers a miss 202 and schedules it; other callers only render ahead. */
  onDemand: 'render' | 'schedule';
}): Record<string, string> {
  return {
    PREVIEW_AHEAD: 'lambda',
    RENDER_FUNCTION_NAME: settings.renderFunctionName,
    PREVIEW_ON_DEMAND: settings.onDemand,
    ...(settings.browserFunctionName
      ? { PREVIEW_BROWSER: 'lambda', BROWSER_RENDER_FUNCTION_NAME: settings.browserFunctionName }
      : {}),
  };
}
