import { describe, expect, it } from 'vitest';
import { contentDisposition } from '../../../shared/domain/content-disposition.js';

describe('contentDisposition', () => {
  it('gives an ASCII fallback and the RFC 5987 UTF-8 name', () => {
    expect(contentDisposition('Q3 report.pdf')).toBe(
      `attachment; filename="Q3 report.pdf"; filename*=UTF-8''Q3%20report.pdf`,
    );
    expect(contentDisposition('résumé.pdf')).toBe(
      `attachment; filename="resume.pdf"; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf`,
    );
    expect(contentDisposition('日本.txt')).toBe(
      `attachment; filename="__.txt"; filename*=UTF-8''%E6%97%A5%E6%9C%AC.txt`,
    );
  });

  it('lets no quote, backslash or line break through either form', () => {
    const header = contentDisposition('evil"; filename="x.html\r\nSet-Cookie: a=b\\.pdf');
    const [, fallback, encoded] = /filename="([^"]*)"; filename\*=UTF-8''(.*)$/.exec(header) ?? [];
    expect(fallback).toBeDefined();
    expect(fallback).not.toMatch(/["\\\r\n]/);
    expect(encoded).toMatch(/^[A-Za-z0-9%._~!-]+$/);
    expect(header).not.toMatch(/[\r\n]/);
  });
});
