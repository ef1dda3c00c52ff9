import { canonicalMimeType, isKindOf } from './mime-relations.js';

/**
 * Text formats have no magic bytes: they are checked as text (API.md section 6): valid UTF-8
 * (or UTF-16 announced by its byte order mark, or the charset the upload declared), no NUL, and JSON, XML and SVG well-formed at
 * the start (an `<svg` root for SVG). Only the first bytes are seen: `complete` says whether
 * they are the whole file, so a sequence cut by the window's end is not held against it.
 */

/** Declared types checked as text: every `text/*`, JSON and XML in all their `+json`/`+xml` forms. */
export function isTextFormat(mimeType: string): boolean {
  const t = canonicalMimeType(mimeType);
  return (
    t.startsWith('text/') ||
    textKind(t) !== 'text' ||
    t === 'application/javascript' ||
    t === 'application/ecmascript' ||
    t === 'application/x-sh' ||
    t === 'application/x-httpd-php' ||
    t === 'application/sql' ||
    t === 'application/x-yaml' ||
    t === 'application/yaml' ||
    t === 'application/toml'
  );
}

type TextKind = 'svg' | 'xml' | 'json' | 'text';

function textKind(mimeType: string): TextKind {
  const t = canonicalMimeType(mimeType);
  if (t === 'image/svg+xml') return 'svg';
  if (t === 'application/json' || t.endsWith('+json')) return 'json';
  if (t === 'application/xml' || t === 'text/xml' || t.endsWith('+xml') || isKindOf(t, 'application/xml'))
    return 'xml';
  return 'text';
}

export interface TextVerdict {
  ok: boolean;
  /** Why not, for logs and the audit event. */
  reason?: string;
}

/**
 * Decodes the window as the file's text. `complete` is true when the window holds the whole
 * file (then JSON and XML must be well-formed throughout, not only at the start).
 */
export function checkText(
  declared: string,
  bytes: Uint8Array,
  complete: boolean,
  /** A WHATWG encoding name (`windows-1252`, `shift_jis`...); absent means UTF-8. */
  charset?: string,
): TextVerdict {
  const text = decode(bytes, complete, charset);
  if (text === null)
    return {
      ok: false,
      reason: charset ? `not valid ${charset}` : 'not valid UTF-8 or BOM-declared UTF-16',
    };
  if (text.includes('\u0000')) return { ok: false, reason: 'contains NUL' };
  switch (textKind(declared)) {
    case 'json':
      return jsonStartIsWellFormed(text, complete) ? { ok: true } : { ok: false, reason: 'not JSON' };
    case 'svg':
      return xmlStart(text, complete, 'svg');
    case 'xml':
      return xmlStart(text, complete, null);
    default:
      return { ok: true };
  }
}

/** A byte order mark wins over a declared charset, as it does in browsers. */
function decode(bytes: Uint8Array, complete: boolean, charset = 'utf-8'): string | null {
  let encoding = charset;
  let body = bytes;
  if (bytes[0] === 0xff && bytes[1] === 0xfe) [encoding, body] = ['utf-16le', bytes.subarray(2)];
  else if (bytes[0] === 0xfe && bytes[1] === 0xff) [encoding, body] = ['utf-16be', bytes.subarray(2)];
  else if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf)
    [encoding, body] = ['utf-8', bytes.subarray(3)];
  if (!UNICODE.has(encoding)) return decodeLegacy(body, complete, encoding);
  if (!complete) body = body.subarray(0, body.length - cutTail(body, encoding));
  try {
    return new TextDecoder(encoding, { fatal: true }).decode(body);
  } catch {
    return null;
  }
}

const UNICODE = new Set(['utf-8', 'utf-16le', 'utf-16be']);

/**
 * A legacy charset: single-byte ones decode any byte; the multi-byte ones (Shift_JIS, EUC,
 * GB18030, Big5) may have a character cut by the window's end, so up to 3 trailing bytes are
 * let go before the window is judged invalid.
 */
function decodeLegacy(body: Uint8Array, complete: boolean, encoding: string): string | null {
  const decoder = new TextDecoder(encoding, { fatal: true });
  for (let cut = 0; cut <= (complete ? 0 : Math.min(3, body.length)); cut++) {
    try {
      return decoder.decode(body.subarray(0, body.length - cut));
    } catch {
      // try a shorter window
    }
  }
  return null;
}

/** How many bytes at the end of a cut window may be the start of a character the cut split. */
function cutTail(body: Uint8Array, encoding: string): number {
  if (encoding !== 'utf-8') {
    // A lone byte, or a high surrogate waiting for its pair.
    const odd = body.length % 2;
    const last = body.length - odd - 2;
    const high = encoding === 'utf-16le' ? body[last + 1] : body[last];
    return odd + (high !== undefined && high >= 0xd8 && high <= 0xdb ? 2 : 0);
  }
  for (let back = 1; back <= Math.min(3, body.length); back++) {
    const b = body[body.length - back] as number;
    if ((b & 0xc0) === 0x80) continue; // continuation byte: look further back
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return need > back ? back : 0;
  }
  return 0;
}

const stripBom = (text: string) => (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);

/**
 * JSON: the whole document parses, or, for a cut window, the start is a JSON value's start
 * whose tokens are well-formed so far (a small scanner: brackets balance, strings close, commas
 * and colons where the grammar wants them).
 */
export function jsonStartIsWellFormed(input: string, complete: boolean): boolean {
  const text = stripBom(input);
  if (complete) {
    try {
      JSON.parse(text);
      return true;
    } catch {
      return false;
    }
  }
  return jsonPrefixScan(text);
}

function jsonPrefixScan(text: string): boolean {
  // The stack holds '{' or '['; `expect` is what may come next.
  const stack: string[] = [];
  type Expect = 'value' | 'value-or-close' | 'key' | 'key-or-close' | 'colon' | 'comma-or-close' | 'end';
  let expect = 'value' as Expect;
  let i = 0;
  const afterValue = (): Expect => (stack.length === 0 ? 'end' : 'comma-or-close');
  while (i < text.length) {
    const c = text[i] as string;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    if (expect === 'end') return false;
    if (c === '"') {
      if (expect !== 'value' && expect !== 'value-or-close' && expect !== 'key' && expect !== 'key-or-close')
        return false;
      const isKey = expect === 'key' || expect === 'key-or-close';
      let j = i + 1;
      while (j < text.length && text[j] !== '"') {
        const ch = text.charCodeAt(j);
        if (ch < 0x20) return false;
        j += text[j] === '\\' ? 2 : 1;
      }
      if (j >= text.length) return true; // the window ends inside a string
      i = j + 1;
      if (isKey) expect = 'colon';
      else expect = afterValue();
      continue;
    }
    if (c === '{' || c === '[') {
      if (expect !== 'value' && expect !== 'value-or-close') return false;
      stack.push(c);
      expect = c === '{' ? 'key-or-close' : 'value-or-close';
      i++;
      continue;
    }
    if (c === '}' || c === ']') {
      const open = stack.pop();
      if (open !== (c === '}' ? '{' : '[')) return false;
      if (expect !== 'comma-or-close' && expect !== (c === '}' ? 'key-or-close' : 'value-or-close'))
        return false;
      i++;
      expect = afterValue();
      continue;
    }
    if (c === ',') {
      if (expect !== 'comma-or-close') return false;
      expect = stack[stack.length - 1] === '{' ? 'key' : 'value';
      i++;
      continue;
    }
    if (c === ':') {
      if (expect !== 'colon') return false;
      expect = 'value';
      i++;
      continue;
    }
    if (expect !== 'value' && expect !== 'value-or-close') return false;
    const literal = /^(-?\d[\d.eE+-]*|true|false|null)/.exec(text.slice(i, i + 64));
    if (!literal) {
      // A literal the window cut: `tr`, `nul`, `-`.
      const rest = text.slice(i);
      return rest.length < 6 && ['true', 'false', 'null', '-'].some((w) => w.startsWith(rest));
    }
    i += (literal[0] as string).length;
    expect = afterValue();
  }
  return true;
}

/**
 * XML: a prolog (declaration, comments, processing instructions, a doctype) and then a root
 * element; for SVG that root is `svg` (in any namespace prefix). A whole document in the
 * window must validate throughout.
 */
function xmlStart(input: string, complete: boolean, root: 'svg' | null): TextVerdict {
  const text = stripBom(input);
  let i = 0;
  for (;;) {
    while (i < text.length && /\s/.test(text[i] as string)) i++;
    if (i >= text.length) return complete ? { ok: false, reason: 'no root element' } : { ok: true };
    if (text.startsWith('<?', i)) {
      const end = text.indexOf('?>', i + 2);
      if (end < 0) return complete ? { ok: false, reason: 'unclosed processing instruction' } : { ok: true };
      i = end + 2;
    } else if (text.startsWith('<!--', i)) {
      const end = text.indexOf('-->', i + 4);
      if (end < 0) return complete ? { ok: false, reason: 'unclosed comment' } : { ok: true };
      i = end + 3;
    } else if (/^<!DOCTYPE/i.test(text.slice(i, i + 9))) {
      const end = doctypeEnd(text, i);
      if (end < 0) return complete ? { ok: false, reason: 'unclosed doctype' } : { ok: true };
      i = end;
    } else break;
  }
  const tag = /^<([A-Za-z_][\w.-]*)(?::([A-Za-z_][\w.-]*))?(?=[\s/>]|$)/.exec(text.slice(i, i + 256));
  if (!tag) return { ok: false, reason: 'no root element' };
  const localName = (tag[2] ?? tag[1]) as string;
  if (root === 'svg' && localName !== 'svg')
    return { ok: false, reason: `root element is <${tag[0].slice(1)}>, not <svg>` };
  if (complete) {
    const problem = elementsBalance(text, i);
    if (problem) return { ok: false, reason: `not well-formed: ${problem}` };
  }
  return { ok: true };
}

/**
 * Elements nest and close, one root, from `start` on (comments, CDATA, processing instructions
 * skipped): the structure of well-formedness, without a parser in every function bundle.
 */
function elementsBalance(text: string, start: number): string | null {
  const open: string[] = [];
  let roots = 0;
  const markup =
    /<!--[\s\S]*?-->|<!\[CDATA\[[\s\S]*?\]\]>|<\?[\s\S]*?\?>|<(\/?)([A-Za-z_][\w.:-]*)((?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>|</g;
  markup.lastIndex = start;
  for (let m = markup.exec(text); m; m = markup.exec(text)) {
    if (m[0] === '<') return `stray < at ${m.index}`;
    const name = m[2];
    if (!name) continue; // comment, CDATA, processing instruction
    if (m[1]) {
      if (open.pop() !== name) return `</${name}> closes nothing open`;
    } else if (!m[4]) {
      if (open.length === 0) roots++;
      open.push(name);
    } else if (open.length === 0) roots++;
    if (roots > 1) return 'more than one root element';
  }
  return open.length > 0 ? `<${open[open.length - 1]}> is not closed` : null;
}

/** The index after a doctype's closing `>`, skipping an internal subset in brackets; -1 if cut. */
function doctypeEnd(text: string, start: number): number {
  let depth = 0;
  for (let i = start + 9; i < text.length; i++) {
    const c = text[i];
    if (c === '[') depth++;
    else if (c === ']') depth--;
    else if (c === '>' && depth <= 0) return i + 1;
  }
  return -1;
}
