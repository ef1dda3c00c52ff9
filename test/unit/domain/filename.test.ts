import { describe, expect, it } from 'vitest';
import { StowageError } from '../../../shared/domain/errors.js';
import { normalizeFilename } from '../../../shared/domain/filename.js';

describe('normalizeFilename', () => {
  it.each([
    ['Q3 report.pdf', 'Q3 report.pdf'],
    ['résumé.docx', 'résumé.docx'],
    // NFD "é" (e + combining acute) is stored as NFC
    ['re\u0301sume\u0301.txt', 'résumé.txt'],
    ['..hidden', '..hidden'],
    ['日本語のファイル.png', '日本語のファイル.png'],
    ['a'.repeat(255), 'a'.repeat(255)],
  ])('keeps %j as %j', (input, expected) => {
    expect(normalizeFilename(input)).toBe(expected);
  });

  it.each([
    ['', 'empty'],
    ['   ', 'whitespace only'],
    ['.', 'dot'],
    ['..', 'dot dot'],
    ['a/b.txt', 'slash'],
    ['..\\..\\boot.ini', 'backslash'],
    ['a\u0000b', 'NUL'],
    ['line\nbreak', 'C0 control'],
    ['bell\u0085', 'C1 control'],
    ['invoice\u202Efdp.exe', 'right-to-left override'],
    ['x\u2066y', 'isolate'],
    ['a'.repeat(256), 'over 255 bytes'],
    ['é'.repeat(128), 'over 255 bytes in UTF-8'],
    ['\ud800.txt', 'lone surrogate'],
  ])('rejects %j (%s) with VALIDATION_FAILED', (input) => {
    expect(() => normalizeFilename(input)).toThrowError(StowageError);
    try {
      normalizeFilename(input);
    } catch (e) {
      expect((e as StowageError).code).toBe('VALIDATION_FAILED');
    }
  });

  it('rejects non-strings', () => {
    expect(() => normalizeFilename(42)).toThrow(/string/);
  });
});
