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
