import { crc32 } from 'node:zlib';
import { HTML_PAGE, minimalPdf, PNG_1x1, WINDOWS_EXE } from '../samples.js';

const latin1 = (text: string) => Buffer.from(text, 'latin1');

/** A real one-entry ZIP (stored, not compressed): local header, data, central directory, end. */
export function zipOf(name: string, content: Buffer): Buffer {
  const nameBytes = latin1(name);
  const crc = crc32(content) >>> 0;
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(10, 4);
  local.writeUInt32LE(crc, 14);
  local.writeUInt32LE(content.length, 18);
  local.writeUInt32LE(content.length, 22);
  local.writeUInt16LE(nameBytes.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(20, 4);
  central.writeUInt16LE(10, 6);
  central.writeUInt32LE(crc, 16);
  central.writeUInt32LE(content.length, 20);
  central.writeUInt32LE(content.length, 24);
  central.writeUInt16LE(nameBytes.length, 28);
  const localPart = Buffer.concat([local, nameBytes, content]);
  const centralPart = Buffer.concat([central, nameBytes]);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(centralPart.length, 12);
  end.writeUInt32LE(localPart.length, 16);
  return Buffer.concat([localPart, centralPart, end]);
}

export interface Spoof {
  name: string;
  bytes: Buffer;
  /**
   * The type the first bytes really announce (their magic number), null when they announce
   * none. What section 6 of API.md compares with the declared type.
   */
  announces: string | null;
}

const SCRIPT = '<script>alert(document.domain)</script>';

/** Content a browser would run, or that pretends to be something else. */
export const SPOOFS: readonly Spoof[] = [
  { name: 'a Windows executable', bytes: WINDOWS_EXE, announces: 'application/x-msdownload' },
  {
    name: 'an ELF executable',
    bytes: latin1(`\x7fELF\x02\x01\x01\x00${'\x00'.repeat(120)}`),
    announces: 'application/x-elf',
  },
  { name: 'an HTML page', bytes: HTML_PAGE, announces: null },
  {
    name: 'an SVG with a script',
    bytes: latin1(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">${SCRIPT}</svg>`),
    announces: null,
  },
  {
    name: 'an XML-declared SVG with a script',
    bytes: latin1(`<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg">${SCRIPT}</svg>`),
    announces: 'application/xml',
  },
  {
    name: 'a GIF/JavaScript polyglot',
    bytes: latin1(
      'GIF89a/*\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04*/=1;alert(document.domain);//',
    ),
    announces: 'image/gif',
  },
  {
    name: 'a PDF+ZIP polyglot',
    bytes: Buffer.concat([minimalPdf('polyglot'), zipOf('payload.js', latin1('alert(1)'))]),
    announces: 'application/pdf',
  },
  {
    name: 'a ZIP+PDF polyglot',
    bytes: Buffer.concat([zipOf('payload.html', latin1(SCRIPT)), minimalPdf('polyglot')]),
    announces: 'application/zip',
  },
  {
    name: 'a PNG/HTML polyglot',
    bytes: Buffer.concat([PNG_1x1, latin1(`<html><body>${SCRIPT}</body></html>`)]),
    announces: 'image/png',
  },
  {
    name: 'a PDF whose body is an HTML page',
    bytes: Buffer.concat([latin1('%PDF-1.4\n'), HTML_PAGE]),
    announces: 'application/pdf',
  },
];

/** The declared types of the attack, as a browser or a script might spell them. */
export const DECLARED = [
  'application/pdf',
  'Application/PDF',
  'application/pdf; charset=binary',
  'image/png',
  'IMAGE/PNG',
  'image/png;name="x.html"',
] as const;

/** `Text/Plain; charset=x` → `text/plain`. */
export const essence = (contentType: string) => (contentType.split(';')[0] ?? '').trim().toLowerCase();

/** Types a browser would execute or render as active content (API.md section 7). */
export const EXECUTABLE_TYPES =
  /^(text\/html|application\/xhtml\+xml|image\/svg\+xml|text\/xml|application\/xml|[a-z]+\/[a-z.+-]*javascript|text\/ecmascript|application\/ecmascript|.*\+xml)$/i;
