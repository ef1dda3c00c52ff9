import { fileTypeFromBuffer, supportedMimeTypes } from 'file-type';
import {
  canonicalMimeType,
  isKindOf,
  mimeEssence,
  sameContainerFamily,
  sameMimeType,
  typesForExtension,
} from './mime-relations.js';
import { checkText, isTextFormat } from './text-content.js';

/**
 * What the first bytes of an object say it is, and whether that agrees with what the client
 * declared (API.md section 6). Pure: the bytes come from ranged reads done by the caller.
 */

/** The window read for every file. */
export const SNIFF_BYTES = 4100;
/**
 * The most a window may grow to where a format puts what identifies it further in: a TIFF's
 * first IFD, the audio after an ID3 tag (cover art makes those large), a long `ftyp` box.
 * Past it the format is judged by what the window shows (a TIFF, ID3-tagged audio).
 */
export const MAX_SNIFF_BYTES = 1024 * 1024;

export interface Detection {
  /** The type the bytes name, lowercase without parameters; null when they name none. */
  mime: string | null;
  /** file-type's extension for it (labels the file: `*.mpc` is what a browser calls Musepack). */
  ext: string | null;
  /** The bytes judged. */
  bytes: Uint8Array;
  /** The window holds the whole object. */
  complete: boolean;
  /** An ID3v2 tag leads the file and what follows it could not be named (tag past the window). */
  id3Only: boolean;
}

/** Which window a format needs, from what the current window shows; `have` when it is enough. */
export function windowNeeded(bytes: Uint8Array, have: number): number {
  // ID3v2: 10-byte header, a synchsafe size, an optional 10-byte footer; then the audio.
  if (bytes[0] === 0x49 && bytes[1] === 0x44 && bytes[2] === 0x33 && bytes.length >= 10) {
    const size =
      (((bytes[6] as number) & 0x7f) << 21) |
      (((bytes[7] as number) & 0x7f) << 14) |
      (((bytes[8] as number) & 0x7f) << 7) |
      ((bytes[9] as number) & 0x7f);
    const footer = ((bytes[5] as number) & 0x10) !== 0 ? 10 : 0;
    return Math.max(have, 10 + size + footer + SNIFF_BYTES);
  }
  // TIFF: the first IFD's tags say DNG, CR2, NEF...; writers often put it after the pixels.
  const le = bytes[0] === 0x49 && bytes[1] === 0x49 && bytes[2] === 0x2a && bytes[3] === 0x00;
  const be = bytes[0] === 0x4d && bytes[1] === 0x4d && bytes[2] === 0x00 && bytes[3] === 0x2a;
  if ((le || be) && bytes.length >= 8) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return Math.max(have, view.getUint32(4, le) + SNIFF_BYTES);
  }
  // ISO base media: the `ftyp` box lists the brands; a long list may pass the first window.
  if (bytes.length >= 8 && bytes[4] === 0x66 && bytes[5] === 0x74 && bytes[6] === 0x79 && bytes[7] === 0x70) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return Math.max(have, view.getUint32(0) + 16);
  }
  return have;
}

/**
 * Reads the window (growing it where the format needs, at most `MAX_SNIFF_BYTES`, in at most
 * three reads) and names the type. `read(n)` returns the object's bytes [0, n).
 */
export async function detectContent(
  read: (length: number) => Promise<Uint8Array>,
  size: number,
  firstWindow = SNIFF_BYTES,
): Promise<Detection> {
  let want = firstWindow;
  let bytes = size > 0 ? await read(want) : new Uint8Array();
  for (let round = 0; round < 2 && bytes.length === want && bytes.length < size; round++) {
    const next = Math.min(windowNeeded(bytes, bytes.length), MAX_SNIFF_BYTES, size);
    if (next <= bytes.length) break;
    want = next;
    bytes = await read(want);
  }
  const complete = bytes.length >= size;
  const found = bytes.length > 0 ? await fileTypeFromBuffer(bytes) : undefined;
  let mime = found ? mimeEssence(found.mime) : null;
  let ext = found?.ext ?? null;
  const id3 = bytes[0] === 0x49 && bytes[1] === 0x44 && bytes[2] === 0x33;
  const id3Only =
    id3 && (mime === null || (mime === 'audio/mpeg' && !complete && bytes.length >= MAX_SNIFF_BYTES));
  if (id3 && mime === null) [mime, ext] = ['audio/mpeg', 'mp3'];
  if (mime === null && isEbml(bytes)) [mime, ext] = ebmlDocType(bytes);
  // A TIFF header whose IFD lies past the window is still a TIFF.
  if (mime === null && isTiffHeader(bytes)) [mime, ext] = ['image/tiff', 'tif'];
  return { mime, ext, bytes, complete, id3Only };
}

const isEbml = (b: Uint8Array) => b[0] === 0x1a && b[1] === 0x45 && b[2] === 0xdf && b[3] === 0xa3;

/**
 * Matroska and WebM by the EBML header's DocType element (0x4282), for headers file-type's
 * parser gives up on (an 8-byte header size, unusual element order).
 */
function ebmlDocType(b: Uint8Array): [string | null, string | null] {
  const head = Buffer.from(b.buffer, b.byteOffset, Math.min(b.byteLength, 256));
  const at = head.indexOf(Buffer.from([0x42, 0x82]));
  if (at < 0) return [null, null];
  const len = (head[at + 2] ?? 0) & 0x7f;
  const docType = head.subarray(at + 3, at + 3 + len).toString('latin1');
  if (docType === 'webm') return ['video/webm', 'webm'];
  if (docType === 'matroska') return ['video/matroska', 'mkv'];
  return [null, null];
}

const isTiffHeader = (b: Uint8Array) =>
  (b[0] === 0x49 && b[1] === 0x49 && b[2] === 0x2a && b[3] === 0x00) ||
  (b[0] === 0x4d && b[1] === 0x4d && b[2] === 0x00 && b[3] === 0x2a);

/** The whole-window detection, for callers that have the bytes already (tests, benchmarks). */
export async function detectMimeType(firstBytes: Uint8Array): Promise<string | null> {
  const found = await detectContent(async (n) => firstBytes.subarray(0, n), firstBytes.length);
  return found.mime;
}

// Declared types whose real files always announce themselves in their first bytes: without
// that signature the declaration is false. Every image format file-type knows is one, so
// markup declared as an image fails here even where the image format is obscure.
const SIGNED_TYPES = new Set(
  [
    'application/pdf',
    'image/png',
    'image/jpeg',
    'image/gif',
    'image/webp',
    'image/bmp',
    'image/tiff',
    'image/avif',
    'image/heic',
    'application/zip',
    'application/x-cfb',
    'application/gzip',
    'application/x-7z-compressed',
    'application/x-rar-compressed',
    'application/x-tar',
    'application/x-bzip2',
    'audio/mpeg',
    'audio/wav',
    'audio/ogg',
    'audio/flac',
    'video/mp4',
    'video/webm',
    'video/quicktime',
    'video/matroska',
    'application/wasm',
    'application/x-msdownload',
    'application/x-elf',
    'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
    'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    'application/vnd.openxmlformats-officedocument.presentationml.presentation',
    'application/vnd.oasis.opendocument.text',
    'application/vnd.oasis.opendocument.spreadsheet',
    'application/vnd.oasis.opendocument.presentation',
    'application/epub+zip',
    'application/java-archive',
    'application/vnd.android.package-archive',
    'application/msword',
    'application/vnd.ms-excel',
    'application/vnd.ms-powerpoint',
    ...[...supportedMimeTypes].filter((t) => t.startsWith('image/') && t !== 'image/svg+xml'),
  ].map(canonicalMimeType),
);

/** A declared type that real files of that type always announce in their first bytes. */
export const hasKnownSignature = (mimeType: string) =>
  !isTextFormat(mimeType) && SIGNED_TYPES.has(canonicalMimeType(mimeType));

/** Media a browser renders from bytes: what a spoof (markup, a script) pretends to be. */
const isInertMedia = (t: string) =>
  (/^(image|audio|video|font)\//.test(t) && t !== 'image/svg+xml') || t === 'application/pdf';

/**
 * Markup or a script at the start of the bytes: the WHATWG sniffing rule's HTML tags, an XML
 * declaration, a shebang, PHP. A file that starts so is no image, audio, video or PDF.
 */
export function looksLikeActiveText(bytes: Uint8Array): boolean {
  const head = new TextDecoder('utf-8')
    .decode(bytes.subarray(0, 512))
    .replace(/^\uFEFF/, '')
    .trimStart()
    .toLowerCase();
  if (
    head.startsWith('#!') ||
    head.startsWith('<?php') ||
    head.startsWith('<?xml') ||
    head.startsWith('<!--')
  )
    return true;
  return /^<(!doctype html|html|head|script|iframe|h1|div|font|table|a|style|title|b|body|br|p|svg|object|embed|meta|link|img|form|base)[\s/>]/.test(
    head,
  );
}

export interface TypeVerdict {
  /** The type the file is stored under, lowercase without parameters (API.md 6.3). */
  mimeType: string;
  /** The bytes contradict the declaration, or lack the signature the declared type has. */
  mismatch: boolean;
  /** The declaration was found true: a bucket that allows the declared name allows the file. */
  declarationHolds: boolean;
  /** Why, in a few words, for the audit event and logs. */
  reason: string;
}

const OCTET = 'application/octet-stream';

/**
 * Judges a declaration against what the bytes say, as users mean types: aliases are one type,
 * a member declared inside its detected container (DOCX in ZIP, MSI in CFB, SVG in XML) is that
 * member, labels of one container family (ISO base media, Ogg, ASF) agree, the types browsers
 * send for the detected format's extension are that format, and text is checked as text.
 */
export function judgeType(
  declaredInput: string,
  detection: Detection | string | null,
  /** The declared charset of a text format (`declaredCharset`); absent means UTF-8. */
  charset?: string,
): TypeVerdict {
  const declared = mimeEssence(declaredInput);
  const found: Detection =
    typeof detection === 'object' && detection !== null
      ? detection
      : {
          mime: detection ? mimeEssence(detection) : null,
          ext: null,
          bytes: new Uint8Array(),
          complete: false,
          id3Only: false,
        };
  const detected = found.mime;
  const accept = (mimeType: string, reason: string, declarationHolds = true): TypeVerdict => ({
    mimeType,
    mismatch: false,
    declarationHolds,
    reason,
  });
  const reject = (reason: string): TypeVerdict => ({
    mimeType: detected ?? declared,
    mismatch: true,
    declarationHolds: false,
    reason,
  });
  const asText = (): TypeVerdict => {
    const text = checkText(declared, found.bytes, found.complete, charset);
    return text.ok ? accept(declared, 'checked as text') : reject(`declared text: ${text.reason}`);
  };

  if (declared === OCTET || declared === '') {
    // Anything may be sent unlabelled; it is stored as what its bytes say.
    return accept(detected ?? OCTET, 'unlabelled', false);
  }
  if (detected === null) {
    if (isTextFormat(declared)) return asText();
    if (hasKnownSignature(declared)) return reject('declared type has a signature the bytes lack');
    if (isInertMedia(declared) && looksLikeActiveText(found.bytes))
      return reject('markup or script declared as media');
    return accept(declared, 'no signature: stored as declared');
  }
  if (sameMimeType(declared, detected)) return accept(detected, 'same type');
  // XML without a more precise name: an SVG, an XHTML page, an RSS feed are checked as text.
  if (sameMimeType(detected, 'application/xml') && isTextFormat(declared)) return asText();
  // A member declared inside its detected container: the declaration is the more precise name.
  if (isKindOf(declared, detected)) return accept(declared, `a kind of ${detected}`);
  // The container declared and the bytes named a member: a DOCX is a ZIP, a DNG is a TIFF.
  if (isKindOf(detected, declared)) return accept(detected, `${detected} is a kind of ${declared}`);
  if (sameContainerFamily(declared, detected)) return accept(declared, 'one container family');
  // What a browser calls a file of the detected format's extension: `*.mpc` is
  // `application/vnd.mophun.certificate` to mime-db, and Musepack audio to file-type.
  const labels = new Set([...(found.ext ? typesForExtension(found.ext) : [])]);
  if (labels.has(canonicalMimeType(declared))) return accept(detected, `browsers label *.${found.ext} so`);
  // ID3-tagged audio whose codec lies past the window: any audio declaration is believed.
  if (found.id3Only && declared.startsWith('audio/')) return accept(declared, 'ID3-tagged audio');
  return reject(`bytes are ${detected}`);
}
