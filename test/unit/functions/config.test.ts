import { describe, expect, it } from 'vitest';
import { ConfigError, readConfig } from '../../../functions/lib/config.js';

const base = { TABLE_NAME: 'stowage', UPLOADS_BUCKET: 'uploads' };
const isolated = {
  ...base,
  TENANT_ROLE_ARN: 'arn:aws:iam::111122223333:role/tenant',
  TABLE_ARN: 'arn:aws:dynamodb:us-east-1:111122223333:table/stowage',
};

describe('readConfig URL lifetimes', () => {
  it('gives upload URLs minutes and part URLs an hour by default', () => {
    expect(readConfig(base).limits).toMatchObject({
      uploadUrlTtlSeconds: 600,
      partUrlTtlSeconds: 3600,
      downloadUrlTtlSeconds: 300,
    });
  });

  it('refuses URLs that would outlive half a tenant session, naming the setting', () => {
    expect(() => readConfig(isolated)).toThrow(ConfigError);
    expect(() => readConfig(isolated)).toThrow(/FILESTORE_\*_URL_TTL_SECONDS asks for 3600 s/);
    expect(readConfig({ ...isolated, FILESTORE_PART_URL_TTL_SECONDS: '900' }).limits.partUrlTtlSeconds).toBe(
      900,
    );
  });
});
