import { describe, expect, it } from 'vitest';
import { tableKeys } from '../../../shared/domain/keys.js';
import {
  PNG_HEADER_BYTES,
  previewLifecycleDays,
  previewMetrics,
  previewVariant,
  readPngHeader,
  ZERO_PREVIEW_COUNTERS,
} from '../../../shared/domain/preview.js';

const file = {
  objectKey: 'tenants/acme/B1/F1',
  mimeType: 'application/pdf',
  size: 48_213,
  sha256: null as string | null,
};

describe('previewVariant', () => {
  it('names the width and a version of the content, in key-safe characters', () => {
    expect(previewVariant(file, 800)).toMatch(/^w800-[0-9a-f]{16}$/);
    expect(previewVariant(file, 800)).toBe(previewVariant({ ...file }, 800));
  });

  it.each([
    ['another width', { ...file }, 400],
    ['another size', { ...file, size: 48_214 }, 800],
    ['another type', { ...file, mimeType: 'image/png' }, 800],
    ['a checksum', { ...file, sha256: 'a'.repeat(64) }, 800],
    ['another object', { ...file, objectKey: 'tenants/acme/B1/F2' }, 800],
  ])('changes with %s, so a changed file never shows a stale preview', (_, other, width) => {
    expect(previewVariant(other, width)).not.toBe(previewVariant(file, 800));
  });
});

describe('previewMetrics', () => {
  it('is all zeros without data', () => {
    expect(previewMetrics(ZERO_PREVIEW_COUNTERS)).toEqual({
      hits: 0,
      misses: 0,
      errors: 0,
      renders: 0,
      hitRatio: 0,
      objects: 0,
      bytes: 0,
      avgRenderMs: 0,
    });
  });

  it('derives the hit ratio and the average render time', () => {
    const m = previewMetrics({
      hits: 3,
      misses: 1,
      errors: 2,
      renders: 4,
      totalRenderMs: 250,
      objects: 4,
      bytes: 1000,
    });
    expect(m).toMatchObject({ hitRatio: 0.75, avgRenderMs: 62.5, objects: 4, bytes: 1000, errors: 2 });
  });
});

describe('previewLifecycleDays', () => {
  it.each([
    [604_800_000, 7],
    [604_800_001, 8],
    [3_600_000, 1],
    [1, 1],
  ])('rounds %i ms up to %i whole days', (ms, days) => {
    expect(previewLifecycleDays(ms)).toBe(days);
  });
});

describe('readPngHeader', () => {
  const header = Buffer.from('89504e470d0a1a0a0000000d49484452000003200000019a', 'hex');

  it('reads width and height from the IHDR chunk', () => {
    expect(header.length).toBe(PNG_HEADER_BYTES);
    expect(readPngHeader(header)).toEqual({ width: 800, height: 410 });
  });

  it('answers null for anything that is not a PNG', () => {
    expect(readPngHeader(Buffer.alloc(PNG_HEADER_BYTES, 0x41))).toBeNull();
    expect(readPngHeader(header.subarray(0, 20))).toBeNull();
    const noIhdr = Buffer.from(header);
    noIhdr.write('IDAT', 12, 'latin1');
    expect(readPngHeader(noIhdr)).toBeNull();
  });
});

describe('preview keys', () => {
  it('put the tenant first in every partition key', () => {
    for (const pk of [
      tableKeys.previewsByAccessPk('acme'),
      tableKeys.previewSweepPk('acme'),
      tableKeys.previewStatsSweepPk('acme'),
      tableKeys.filePk('acme', 'F1'),
    ])
      expect(pk.startsWith('T#acme#')).toBe(true);
    expect(tableKeys.previewSk('w800-abc')).toBe('PREVIEW#w800-abc');
    expect(tableKeys.previewStatsSk).toBe('PREVIEWSTATS');
  });

  it('order entries by last access, then file and variant', () => {
    const older = tableKeys.previewAccessSk('2026-11-28T10:00:00.000Z', 'F9', 'w800-a');
    const newer = tableKeys.previewAccessSk('2026-11-28T11:00:00.000Z', 'F1', 'w800-a');
    expect(older < newer).toBe(true);
  });
});
