import { describe, expect, it } from 'vitest';
import { fileAccess, hasRole } from '../../../shared/domain/access.js';
import type { Actor, Role } from '../../../shared/domain/model.js';

const actor = (roles: Role[], userId = 'u1'): Actor => ({ tenantId: 't', userId, roles });
const ticket = { entityType: 'ticket', entityId: 'T1' };

describe('hasRole', () => {
  it.each([
    [['admin'], 'admin', true],
    [['admin'], 'member', true],
    [['member'], 'viewer', true],
    [['member'], 'admin', false],
    [['viewer'], 'member', false],
    [['viewer'], 'viewer', true],
    [[], 'viewer', false],
  ] as const)('%j has %s: %s', (roles, role, expected) =>
    expect(hasRole(actor([...roles]), role)).toBe(expected),
  );
});

describe('fileAccess (API.md section 8)', () => {
  const open = { restricted: false };
  const restricted = { restricted: true };
  it.each([
    // who, file uploader, refs, bucket, grants → see, change
    ['admin sees and changes anything', actor(['admin']), 'other', [ticket], restricted, [], true, true],
    ['uploader member', actor(['member']), 'u1', [ticket], restricted, [], true, true],
    ['uploader viewer sees, never changes', actor(['viewer']), 'u1', [], open, [], true, false],
    ['member, unreferenced file, open bucket', actor(['member']), 'other', [], open, [], true, true],
    ['viewer, unreferenced file, open bucket', actor(['viewer']), 'other', [], open, [], true, false],
    [
      'member, unreferenced file, restricted bucket',
      actor(['member']),
      'other',
      [],
      restricted,
      [],
      false,
      false,
    ],
    ['member, referenced file, no grant', actor(['member']), 'other', [ticket], open, [], false, false],
    [
      'member with read grant',
      actor(['member']),
      'other',
      [ticket],
      open,
      [{ ...ticket, access: 'read' }],
      true,
      false,
    ],
    [
      'member with write grant',
      actor(['member']),
      'other',
      [ticket],
      restricted,
      [{ ...ticket, access: 'write' }],
      true,
      true,
    ],
    [
      'viewer with write grant: grants never raise a role',
      actor(['viewer']),
      'other',
      [ticket],
      open,
      [{ ...ticket, access: 'write' }],
      true,
      false,
    ],
    [
      'grant on another entity does not count',
      actor(['member']),
      'other',
      [ticket],
      open,
      [{ entityType: 'ticket', entityId: 'T2', access: 'write' }],
      false,
      false,
    ],
  ] as const)('%s', (_, who, uploadedBy, references, bucket, grants, see, change) => {
    expect(fileAccess(who, { uploadedBy, references: [...references] }, bucket, [...grants])).toEqual({
      see,
      change,
    });
  });
});
