import { describe, expect, it } from 'vitest';
import { judgeType } from '../../../shared/domain/content-type-detection.js';
import {
  declaredCharset,
  isMimeAllowed,
  mimeMatches,
  normalizeMimePattern,
  normalizeMimeType,
  safeResponseContentType,
} from '../../../shared/domain/mime.js';

describe('MIME rules', () => {
  it.each([
    ['application/pdf', 'application/pdf'],
    ['Text/Plain; charset=UTF-8', 'text/plain'],
    ['image/svg+xml', 'image/svg+xml'],
  ])('normalizes %j to %j', (input, out) => expect(normalizeMimeType(input)).toBe(out));

  it.each(['', 'pdf', 'image/', '/png', 'a/b/c', 'text/plain\r\nx-evil: 1', 'image/*'])(
    'rejects %j',
    (input) => expect(() => normalizeMimeType(input)).toThrow(),
  );

  it.each([
    ['image/png', 'image/*', true],
    ['image/png', 'image/png', true],
    ['image/png', 'image/jpeg', false],
    ['imagex/png', 'image/*', false],
    ['application/pdf', 'image/*', false],
  ])('%s matches %s: %s', (mime, pattern, expected) => expect(mimeMatches(mime, pattern)).toBe(expected));

  it('treats a null allowed list as any type and patterns as wildcards', () => {
    expect(isMimeAllowed('application/x-anything', null)).toBe(true);
    expect(isMimeAllowed('image/webp', ['application/pdf', 'image/*'])).toBe(true);
    expect(isMimeAllowed('text/html', ['application/pdf', 'image/*'])).toBe(false);
  });

  it('accepts exact types and wildcards as bucket patterns, nothing else', () => {
    expect(normalizeMimePattern(' Image/* ')).toBe('image/*');
    expect(() => normalizeMimePattern('*/*')).toThrow();
    expect(() => normalizeMimePattern('image/**')).toThrow();
  });

  it.each([
    ['text/html', 'application/octet-stream'],
    ['image/svg+xml', 'application/octet-stream'],
    ['application/xhtml+xml', 'application/octet-stream'],
    ['text/javascript', 'application/octet-stream'],
    ['application/xml', 'application/octet-stream'],
    ['application/pdf', 'application/pdf'],
    ['image/png', 'image/png'],
    ['text/plain', 'text/plain'],
  ])('serves %s as %s', (mime, served) => expect(safeResponseContentType(mime)).toBe(served));
});

describe('judgeType: declared type against the first bytes', () => {
  const docx = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';
  it.each([
    // declared, detected, stored type, mismatch
    ['application/pdf', 'application/pdf', 'application/pdf', false],
    ['image/jpg', 'image/jpeg', 'image/jpeg', false],
    ['text/plain', null, 'text/plain', false],
    ['text/csv', null, 'text/csv', false],
    ['application/pdf', null, 'application/pdf', true],
    ['image/png', null, 'image/png', true],
    ['image/png', 'image/jpeg', 'image/jpeg', true],
    ['application/pdf', 'application/x-msdownload', 'application/x-msdownload', true],
    ['text/plain', 'application/pdf', 'application/pdf', true],
    [docx, 'application/zip', docx, false],
    ['application/zip', docx, docx, false],
    ['application/octet-stream', 'image/png', 'image/png', false],
    ['application/octet-stream', null, 'application/octet-stream', false],
  ] as const)('%s with bytes of %s → %s (mismatch %s)', (declared, detected, stored, mismatch) => {
    expect(judgeType(declared, detected)).toMatchObject({ mimeType: stored, mismatch });
  });
});

describe('declared charsets', () => {
  it.each([
    ['text/plain; charset=ISO-8859-1', 'windows-1252'],
    ['text/csv;charset="utf-8"', 'utf-8'],
    ['text/plain; format=flowed; charset=Shift_JIS', 'shift_jis'],
    ['text/plain', null],
  ])('%s → %s (the WHATWG name browsers decode it as)', (input, charset) =>
    expect(declaredCharset(input, true)).toBe(charset),
  );

  it('ignores a charset on a type that is not text, and refuses one no decoder knows', () => {
    expect(declaredCharset('image/png; charset=latin1', false)).toBeNull();
    expect(() => declaredCharset('text/plain; charset=klingon-8', true)).toThrow(
      expect.objectContaining({ code: 'VALIDATION_FAILED' }),
    );
  });

  it('serves text with its charset and active content as bytes', () => {
    expect(safeResponseContentType('text/plain', 'windows-1252')).toBe('text/plain; charset=windows-1252');
    expect(safeResponseContentType('text/html', 'windows-1252')).toBe('application/octet-stream');
  });
});
