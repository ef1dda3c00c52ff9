import { describe, expect, it } from 'vitest';
import {
  detectContent,
  judgeType,
  MAX_SNIFF_BYTES,
  SNIFF_BYTES,
} from '../../../shared/domain/content-type-detection.js';
import { isMimeAllowed } from '../../../shared/domain/mime.js';
import { canonicalMimeType, isKindOf, sameMimeType } from '../../../shared/domain/mime-relations.js';
import { checkText } from '../../../shared/domain/text-content.js';
import { HTML_PAGE, PNG_1x1, WINDOWS_EXE } from '../../support/samples.js';

const text = (s: string) => new TextEncoder().encode(s);

/** Detects as validation does, over an in-memory object, recording each read's length. */
async function detect(bytes: Uint8Array) {
  const reads: number[] = [];
  const found = await detectContent(async (n) => {
    reads.push(n);
    return bytes.subarray(0, n);
  }, bytes.length);
  return { found, reads };
}

const judge = async (declared: string, bytes: Uint8Array) => judgeType(declared, (await detect(bytes)).found);

describe('aliases come from the maintained tables', () => {
  it.each([
    ['image/x-icon', 'image/vnd.microsoft.icon'],
    ['audio/x-flac', 'audio/flac'],
    ['video/x-matroska', 'video/matroska'],
    ['application/x-zip-compressed', 'application/zip'],
    ['image/jpg', 'image/jpeg'],
    ['text/x-vcard', 'text/vcard'],
    ['audio/x-aiff', 'audio/aiff'],
    ['application/x-sqlite3', 'application/vnd.sqlite3'],
    ['video/x-msvideo', 'video/vnd.avi'],
    ['text/xml', 'application/xml'],
  ])('%s is %s', (a, b) => expect(sameMimeType(a, b)).toBe(true));

  it.each([
    ['image/png', 'image/jpeg'],
    ['text/html', 'text/plain'],
    ['application/pdf', 'application/x-msdownload'],
    ['image/svg+xml', 'application/xml'],
  ])('%s is not %s', (a, b) => expect(sameMimeType(a, b)).toBe(false));

  it('compares lowercase essences', () =>
    expect(canonicalMimeType('Audio/OGG; codecs=opus')).toBe('audio/ogg'));

  it('lets a bucket written with one alias allow the other', () => {
    expect(isMimeAllowed('image/x-icon', ['image/vnd.microsoft.icon'])).toBe(true);
    expect(isMimeAllowed('audio/flac', ['audio/x-flac'])).toBe(true);
    expect(isMimeAllowed('image/png', ['image/jpeg'])).toBe(false);
  });
});

describe('container membership', () => {
  it.each([
    ['application/vnd.openxmlformats-officedocument.wordprocessingml.document', 'application/zip'],
    ['application/vnd.oasis.opendocument.text', 'application/zip'],
    ['application/vnd.apple.pages', 'application/zip'],
    ['application/vnd.apple.keynote', 'application/zip'],
    ['application/epub+zip', 'application/zip'],
    ['application/java-archive', 'application/zip'],
    ['application/vnd.android.package-archive', 'application/zip'],
    ['application/msword', 'application/x-cfb'],
    ['application/vnd.ms-excel', 'application/x-cfb'],
    ['application/x-msi', 'application/x-cfb'],
    ['image/svg+xml', 'application/xml'],
    ['image/x-adobe-dng', 'image/tiff'],
  ])('%s lives in %s', (member, container) => expect(isKindOf(member, container)).toBe(true));

  it.each([
    ['image/png', 'application/zip'],
    ['text/html', 'application/xml'],
    ['application/pdf', 'application/x-cfb'],
  ])('%s does not live in %s', (member, container) => expect(isKindOf(member, container)).toBe(false));

  it('stores the declared member of a detected container, and the detected member of a declared container', () => {
    const docx = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';
    expect(judgeType(docx, 'application/zip')).toMatchObject({ mismatch: false, mimeType: docx });
    expect(judgeType('application/zip', docx)).toMatchObject({ mismatch: false, mimeType: docx });
    expect(judgeType('application/vnd.apple.numbers', 'application/zip')).toMatchObject({ mismatch: false });
    expect(judgeType('application/x-msdownload', 'application/x-cfb')).toMatchObject({ mismatch: false }); // .msi per mime-db
  });

  it('agrees on labels of one container family', () => {
    expect(judgeType('audio/mp4', 'video/mp4')).toMatchObject({ mismatch: false, mimeType: 'audio/mp4' });
    expect(judgeType('image/heic', 'image/heif')).toMatchObject({ mismatch: false });
    expect(judgeType('audio/x-ms-wma', 'video/x-ms-asf')).toMatchObject({ mismatch: false });
    expect(judgeType('video/x-ogm+ogg', 'video/ogg')).toMatchObject({ mismatch: false });
    expect(judgeType('video/mp4', 'image/heic')).toMatchObject({ mismatch: true });
  });
});

describe('spoofs stay rejected', () => {
  it.each([
    ['image/png', WINDOWS_EXE],
    ['application/pdf', WINDOWS_EXE],
    ['image/svg+xml', WINDOWS_EXE],
    ['image/png', HTML_PAGE],
    ['application/pdf', HTML_PAGE],
    ['image/x-portable-pixmap', HTML_PAGE],
    ['image/x-tga', text('<script>alert(1)</script>')],
    ['image/svg+xml', HTML_PAGE],
    ['video/mp4', text('#!/bin/sh\nrm -rf /\n')],
    ['image/webp', text('{"not": "an image"}')],
  ])('%s holding something else is a mismatch', async (declared, bytes) => {
    expect((await judge(declared, bytes)).mismatch).toBe(true);
  });

  it('stores an unlabelled file as what its bytes say, lowercase without parameters', async () => {
    expect(await judge('application/octet-stream', PNG_1x1)).toMatchObject({
      mismatch: false,
      mimeType: 'image/png',
    });
    expect(judgeType('application/octet-stream', 'audio/ogg; codecs=opus').mimeType).toBe('audio/ogg');
    expect(judgeType('application/octet-stream', 'video/MP1S').mimeType).toBe('video/mp1s');
  });
});

describe('the window grows only where a format needs it', () => {
  it('reads one window for an ordinary file, whatever its size', async () => {
    const big = new Uint8Array(50 * 1024 * 1024);
    big.set(PNG_1x1);
    const { reads } = await detect(big);
    expect(reads).toEqual([SNIFF_BYTES]);
  });

  it('reads past an ID3 tag to the audio it tags', async () => {
    const tagSize = 64 * 1024;
    const id3 = new Uint8Array(10 + tagSize);
    id3.set([
      0x49,
      0x44,
      0x33,
      4,
      0,
      0,
      (tagSize >> 21) & 0x7f,
      (tagSize >> 14) & 0x7f,
      (tagSize >> 7) & 0x7f,
      tagSize & 0x7f,
    ]);
    const flac = new Uint8Array(200_000);
    flac.set(id3);
    flac.set(text('fLaC'), id3.length);
    flac.set([0x00, 0x00, 0x00, 0x22], id3.length + 4); // STREAMINFO header
    const { found, reads } = await detect(flac);
    expect(found.mime).toBe('audio/flac');
    expect(reads).toEqual([SNIFF_BYTES, 10 + tagSize + SNIFF_BYTES]);
    expect(judgeType('audio/x-flac', found).mismatch).toBe(false);
  });

  it('believes any audio declaration of ID3-tagged audio whose tag passes the bound, and never reads more', async () => {
    const tagSize = 5 * 1024 * 1024;
    const file = new Uint8Array(8 * 1024 * 1024);
    file.set([
      0x49,
      0x44,
      0x33,
      4,
      0,
      0,
      (tagSize >> 21) & 0x7f,
      (tagSize >> 14) & 0x7f,
      (tagSize >> 7) & 0x7f,
      tagSize & 0x7f,
    ]);
    const { found, reads } = await detect(file);
    expect(Math.max(...reads)).toBe(MAX_SNIFF_BYTES);
    expect(judgeType('audio/flac', found).mismatch).toBe(false);
    expect(judgeType('image/png', found).mismatch).toBe(true);
  });

  it('follows a TIFF to its first IFD, and calls a TIFF whose IFD is past the bound a TIFF', async () => {
    const near = new Uint8Array(300_000);
    near.set([0x49, 0x49, 0x2a, 0x00, 0x00, 0x00, 0x04, 0x00]); // IFD at 0x40000 = 262144
    near.set([0x01, 0x00, 0x00, 0x01, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x10, 0x00], 262144); // 1 tag: width
    const { found, reads } = await detect(near);
    expect(found.mime).toBe('image/tiff');
    expect(reads).toEqual([SNIFF_BYTES, 262144 + SNIFF_BYTES]);

    const far = new Uint8Array(3 * 1024 * 1024);
    far.set([0x4d, 0x4d, 0x00, 0x2a, 0x00, 0x2f, 0x00, 0x00]); // IFD at 3 MiB - ...
    const farResult = await detect(far);
    expect(farResult.found.mime).toBe('image/tiff');
    expect(Math.max(...farResult.reads)).toBeLessThanOrEqual(MAX_SNIFF_BYTES);
  });
});

describe('text formats are checked as text', () => {
  it.each([
    ['text/plain', 'hello, wörld\n', true],
    ['text/csv', 'a,b\n1,2\n', true],
    ['text/markdown', '# Title\n\n*text*', true],
    ['text/html', '<!doctype html><p>hi', true],
    ['application/json', '{"a": [1, 2, {"b": null}]}', true],
    ['application/json', '{"a": [1, 2,, ]}', false],
    ['application/json', 'not json', false],
    ['image/svg+xml', '<?xml version="1.0"?>\n<!-- x --><svg xmlns="http://www.w3.org/2000/svg"/>', true],
    ['image/svg+xml', '<svg:svg xmlns:svg="http://www.w3.org/2000/svg"></svg:svg>', true],
    ['image/svg+xml', '<html><body>no svg</body></html>', false],
    ['image/svg+xml', '<svg><g></svg>', false],
    ['application/xml', '<?xml version="1.0"?><a><b/></a>', true],
    ['application/xml', '<a><b></a>', false],
    ['text/plain', 'nul\u0000inside', false],
  ])('%s: %j → %s', (declared, body, ok) => expect(checkText(declared, text(body), true).ok).toBe(ok));

  it('rejects bytes that are not UTF-8, and accepts UTF-16 with its byte order mark', () => {
    expect(checkText('text/plain', new Uint8Array([0x63, 0x61, 0x66, 0xe9]), true).ok).toBe(false);
    const utf16 = new Uint8Array([0xff, 0xfe, ...[...'<a/>'].flatMap((c) => [c.charCodeAt(0), 0])]);
    expect(checkText('application/xml', utf16, true).ok).toBe(true);
  });

  it('judges a cut window by its start: a character or a document the window ends inside is fine', () => {
    const cutInChar = text('{"name": "caf\u00e9').subarray(0, -1); // the window ends inside é
    expect(checkText('application/json', cutInChar, false).ok).toBe(true);
    expect(checkText('application/json', text('[1, 2, {"open": tr'), false).ok).toBe(true);
    expect(checkText('application/json', text('[1, 2}'), false).ok).toBe(false);
    expect(checkText('image/svg+xml', text('<svg width="10"><g><rect'), false).ok).toBe(true);
  });

  it('reads text in the charset it was declared in: Latin-1 and Shift_JIS pass, a NUL or bad Shift_JIS does not', () => {
    const latin1 = new Uint8Array([0x63, 0x61, 0x66, 0xe9, 0x0a]); // "café\n" in ISO-8859-1
    expect(checkText('text/plain', latin1, true, 'windows-1252').ok).toBe(true);
    expect(checkText('text/csv', new Uint8Array([0x61, 0x00, 0x62]), true, 'windows-1252')).toEqual({
      ok: false,
      reason: 'contains NUL',
    });
    const sjis = new Uint8Array([0x93, 0xfa, 0x96, 0x7b]); // 日本 in Shift_JIS
    expect(checkText('text/plain', sjis, true, 'shift_jis').ok).toBe(true);
    // A window cut inside a two-byte character is judged by what came before it.
    expect(checkText('text/plain', sjis.subarray(0, 3), false, 'shift_jis').ok).toBe(true);
    expect(checkText('text/plain', new Uint8Array([0x93, 0x20, 0x20]), true, 'shift_jis')).toEqual({
      ok: false,
      reason: 'not valid shift_jis',
    });
    // A byte order mark wins over the declaration, as in browsers.
    expect(
      checkText('text/plain', new Uint8Array([0xef, 0xbb, 0xbf, 0xc3, 0xa9]), true, 'shift_jis').ok,
    ).toBe(true);
  });

  it('accepts an SVG that file-type calls XML as image/svg+xml', async () => {
    const svg = text(
      '<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>',
    );
    expect(await judge('image/svg+xml', svg)).toMatchObject({ mismatch: false, mimeType: 'image/svg+xml' });
  });
});
