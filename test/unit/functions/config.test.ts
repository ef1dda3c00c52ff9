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

describe('readConfig malware scanner (API.md 13.6)', () => {
  it.each([
    [{}, null],
    [
      { CLAMD_SOCKET: '/run/clamav/clamd.ctl' },
      { kind: 'clamd', address: { socket: '/run/clamav/clamd.ctl' } },
    ],
    [{ CLAMD_HOST: 'clamav.internal' }, { kind: 'clamd', address: { host: 'clamav.internal', port: 3310 } }],
    [
      { CLAMD_HOST: 'clamav.internal', CLAMD_PORT: '3311' },
      { kind: 'clamd', address: { host: 'clamav.internal', port: 3311 } },
    ],
    [{ MALWARE_SCANNER: 'guardduty' }, { kind: 'guardduty' }],
    [{ MALWARE_SCANNER: 'off', CLAMD_SOCKET: '/s' }, null],
  ])('%j → %j', (env, expected) => {
    const scanner = readConfig({ ...base, ...env }).malwareScanner;
    if (expected === null) expect(scanner).toBeNull();
    else expect(scanner).toMatchObject(expected);
  });

  it('refuses contradictions and a clamd without an address, naming the variables', () => {
    expect(() => readConfig({ ...base, CLAMD_SOCKET: '/s', CLAMD_HOST: 'h' })).toThrow(
      /CLAMD_SOCKET or CLAMD_HOST/,
    );
    expect(() => readConfig({ ...base, MALWARE_SCANNER: 'clamd' })).toThrow(/needs CLAMD_SOCKET/);
    expect(() => readConfig({ ...base, MALWARE_SCANNER: 'mcafee' })).toThrow(
      /MALWARE_SCANNER must be one of/,
    );
    expect(() => readConfig({ ...base, CLAMD_HOST: 'h', CLAMD_PORT: 'x' })).toThrow(/CLAMD_PORT/);
  });
});
