import { describe, expect, it } from 'vitest';
import { objectKeys, parseFileObjectKey, tableKeys } from '../../../shared/domain/keys.js';

describe('keys', () => {
  it('puts the tenant first in every partition key', () => {
    const pks = [
      tableKeys.tenantPk('acme'),
      tableKeys.filePk('acme', 'F1'),
      tableKeys.fileByBucketPk('acme', 'B1', 'live'),
      tableKeys.fileByTenantPk('acme', 'deleted'),
      tableKeys.sweepPk('acme', 'pending'),
      tableKeys.entityPk('acme', 'ticket', 'T1'),
      tableKeys.userPk('acme', 'alice@example.com'),
      tableKeys.eventPk('acme'),
      tableKeys.eventByFilePk('acme', 'F1'),
    ];
    for (const pk of pks) expect(pk === 'T#acme' || pk.startsWith('T#acme#')).toBe(true);
  });

  it('encodes user ids, which may hold any printable character', () => {
    expect(tableKeys.userPk('acme', 'a#b/c d')).toBe('T#acme#U#a%23b%2Fc%20d');
    expect(tableKeys.grantSk('x#T#other')).toBe('GRANT#x%23T%23other');
  });

  it('builds object keys under the tenant prefix from ids alone', () => {
    expect(objectKeys.file('acme', 'B1', 'F1')).toBe('tenants/acme/B1/F1');
    expect(objectKeys.quarantine('acme', 'B1', 'F1')).toBe('quarantine/tenants/acme/B1/F1');
    expect(objectKeys.preview('acme', 'F1', 'page1-800')).toBe('tenants/acme/previews/F1/page1-800.png');
  });

  it('reads a file address back from its key, and nothing else', () => {
    expect(parseFileObjectKey('tenants/acme/B1/F1')).toEqual({
      tenantId: 'acme',
      bucketId: 'B1',
      fileId: 'F1',
    });
    for (const key of [
      'quarantine/tenants/acme/B1/F1',
      'tenants/acme/previews/F1',
      'tenants/acme/B1/F1/extra',
      'tenants/ac me/B1/F1',
      'tenants/acme/B1',
      '../tenants/acme/B1/F1',
    ])
      expect(parseFileObjectKey(key)).toBeNull();
  });
});
