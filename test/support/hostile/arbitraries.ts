import fc from 'fast-check';

// ---- JSON text that JSON.stringify cannot write: raw tokens and repeated keys ----

/** A JSON token written as is (`-0`, `1e400`, `NaN`...). */
export class RawJson {
  constructor(readonly text: string) {}
}
/** An object written from its entries in order, so a key may appear twice. */
export class JsonPairs {
  constructor(readonly entries: readonly (readonly [string, unknown])[]) {}
}

export function jsonText(value: unknown): string {
  if (value instanceof RawJson) return value.text;
  if (value instanceof JsonPairs)
    return `{${value.entries.map(([k, v]) => `${JSON.stringify(k)}:${jsonText(v)}`).join(',')}}`;
  if (Array.isArray(value)) return `[${value.map(jsonText).join(',')}]`;
  if (value !== null && typeof value === 'object') return jsonText(new JsonPairs(Object.entries(value)));
  return JSON.stringify(value);
}

/** Replaces the value at `path` (creating nothing: the path must exist) in a deep copy. */
export function setAt(value: unknown, path: readonly (string | number)[], replacement: unknown): unknown {
  if (path.length === 0) return replacement;
  const [head, ...rest] = path;
  if (Array.isArray(value)) return value.map((v, i) => (i === head ? setAt(v, rest, replacement) : v));
  const obj = value as Record<string, unknown>;
  return { ...obj, [head as string]: setAt(obj[head as string], rest, replacement) };
}

export function getAt(value: unknown, path: readonly (string | number)[]): unknown {
  let at: any = value;
  for (const key of path) at = at?.[key];
  return at;
}

// ---- ids and path segments (API.md section 1) ----

export const ID = /^[A-Za-z0-9_-]{1,64}$/;
export const USER_ID = /^[\x20-\x7e]{1,128}$/;

/** Pieces of a raw path segment: traversal, encoded traversal, controls, bidi, odd escapes. */
const SEGMENT_PIECES = [
  '..%2f',
  '%2e%2e%2f',
  '%2E%2E%2F',
  '..%2F..%2F',
  '%2e%2e%5c',
  '..%5c',
  '%5c',
  '%5C',
  '%2f',
  '%2F',
  '%252e',
  '%252e%252e%252f',
  '%25',
  '%00',
  '%0a',
  '%0d',
  '%0d%0a',
  '%09',
  '%1b',
  '%7f',
  '%c2%85',
  '%c2%9f',
  '%e2%80%ae',
  '%e2%80%aa',
  '%e2%81%a6',
  '%e2%81%a9',
  '%e2%80%8f',
  '%ef%bb%bf',
  '%c0%ae',
  '%c0%af',
  '%e0%80%ae',
  '%ef%bc%8e',
  '%c0',
  '%ff',
  '%ZZ',
  '%',
  '%2',
  '%u002e',
  '%23',
  '%3f',
  '%20',
  '%F0%9F%98%80',
  '%C3%A9',
  'e%CC%81',
  '+',
  '~',
  '!',
  '$',
  '&',
  "'",
  '(',
  ')',
  '*',
  ',',
  ';',
  '=',
  ':',
  '@',
  '"',
  '<',
  '>',
  '{',
  '}',
  '|',
  '^',
  '`',
  '[',
  ']',
  '..',
  '.',
  'a',
  'Z',
  '0',
  '-',
  '_',
  'T%23',
  'tenants',
  'default',
  'NaN',
  '-0',
  '1e308',
  '9007199254740993',
];

/**
 * A path that a WHATWG URL parser would rewrite: a `.` or `..` segment (also as `%2e`), or a
 * backslash. Left out of the generators until the local server stops deciding on the token
 * from the normalised path while the router matches the raw one (see the hostile report:
 * such requests are answered 401 with a valid token).
 */
export const isRewrittenByUrlParser = (rawPath: string) =>
  rawPath.includes('\\') || rawPath.split('/').some((s) => /^(?:\.|%2e){1,2}$/i.test(s));

const piecesSegment = fc
  .array(fc.constantFrom(...SEGMENT_PIECES), { minLength: 1, maxLength: 6 })
  .map((p) => p.join(''));
const encodedUnicodeSegment = fc
  .string({ unit: 'binary', minLength: 1, maxLength: 12 })
  .filter((s) => s.isWellFormed())
  .map(encodeURIComponent);
const lengthSegment = fc.constantFrom(
  'A'.repeat(64),
  'A'.repeat(65),
  '%41'.repeat(64),
  '%41'.repeat(65),
  'x'.repeat(300),
  '_',
  '-',
  '%41',
  '%2D',
);
/** A segment with a literal `/` in it, or empty: it changes which route the path names. */
const slashSegment = fc
  .array(
    fc.oneof(
      fc.constantFrom('', 'a', 'download', 'complete', 'upload', 'files', 'grants', 'x'),
      piecesSegment,
    ),
    {
      minLength: 2,
      maxLength: 4,
    },
  )
  .map((p) => p.join('/'));

export const pathSegment: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: piecesSegment, weight: 6 },
  { arbitrary: encodedUnicodeSegment, weight: 2 },
  { arbitrary: lengthSegment, weight: 1 },
  { arbitrary: slashSegment, weight: 1 },
  { arbitrary: fc.constant(''), weight: 1 },
  {
    arbitrary: fc.constantFrom('..', '.', '%2e%2e', '%2E%2e', '.%2e', '%2e', '\\', 'a\\b', '..\\..'),
    weight: 1,
  },
);

/** Dot segments and backslashes, which a URL parser would resolve before routing. */
export const rewrittenSegment: fc.Arbitrary<string> = fc.constantFrom(
  '..',
  '.',
  '%2e%2e',
  '%2E%2e',
  '.%2e',
  '%2e',
  '\\',
  'a\\b',
  '..\\..',
  '%2e%2e\\x',
);

/** The router percent-decodes a matched segment once; null when the escape is malformed. */
export function decodeSegment(raw: string): string | null {
  try {
    return decodeURIComponent(raw);
  } catch {
    return null;
  }
}

// ---- filenames (API.md section 10) ----

const NAME_PIECES = [
  'report',
  'a',
  '.pdf',
  '.',
  '..',
  '/',
  '\\',
  '../',
  '..\\',
  '%2e%2e%2f',
  '\u0000',
  '\u0001',
  '\u0007',
  '\t',
  '\n',
  '\r',
  '\r\n',
  '\u001b[31m',
  '\u007f',
  '\u0085',
  '\u009f',
  '\u202a',
  '\u202b',
  '\u202c',
  '\u202d',
  '\u202e',
  '\u2066',
  '\u2067',
  '\u2068',
  '\u2069',
  '\u200e',
  '\u200f',
  '\u061c',
  '\u2028',
  '\u2029',
  '\ufeff',
  '\u200b',
  ' ',
  '\u00a0',
  '\u3000',
  '"',
  "'",
  ';',
  '=',
  '*',
  '%',
  '%0d%0a',
  '?',
  '#',
  '<script>',
  'Content-Disposition: inline',
  "\"; filename*=UTF-8''evil.html",
  'Set-Cookie: a=b',
  'e\u0301',
  '\u00e9',
  'A\u030a',
  '\u212b',
  '\ufb01',
  '\u1e9b\u0323',
  '\u{1f600}',
  '\u{1f1e9}\u{1f1ea}',
  '漢字',
  'ﾃｽﾄ',
  'CON',
  'nul.txt',
  '~',
  '$',
  '`',
];

/** A filename that is long in one encoding and short in another: NFD vs NFC, UTF-8 vs UTF-16. */
const overlongName = fc
  .tuple(
    fc.constantFrom('x', '\u00e9', 'e\u0301', '\u{1f600}', '漢', 'A\u030a'),
    fc.integer({ min: 60, max: 300 }),
    fc.constantFrom('', '.pdf', 'x'),
  )
  .map(([unit, n, tail]) => unit.repeat(n) + tail);

export const filename: fc.Arbitrary<string> = fc.oneof(
  {
    arbitrary: fc
      .array(fc.constantFrom(...NAME_PIECES), { minLength: 0, maxLength: 8 })
      .map((p) => p.join('')),
    weight: 6,
  },
  { arbitrary: overlongName, weight: 2 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 20 }), weight: 2 },
  { arbitrary: fc.string({ unit: 'grapheme-composite', maxLength: 20 }), weight: 1 },
);

export type NameVerdict = { ok: true; stored: string } | { ok: false; why: string };

/** API.md section 10, written out independently of the service: what a name must become. */
export function filenameVerdict(input: string): NameVerdict {
  const name = input.normalize('NFC');
  if (!name.isWellFormed()) return { ok: false, why: 'not valid Unicode' };
  if (name.trim() === '') return { ok: false, why: 'empty or whitespace' };
  if (name === '.' || name === '..') return { ok: false, why: '. or ..' };
  if (Buffer.byteLength(name, 'utf8') > 255) return { ok: false, why: 'over 255 bytes after NFC' };
  if (/[/\\]/.test(name)) return { ok: false, why: 'a slash' };
  if (/\p{Cc}/u.test(name)) return { ok: false, why: 'a control character' };
  if (/[\u202a-\u202e\u2066-\u2069]/.test(name)) return { ok: false, why: 'a bidi override' };
  return { ok: true, stored: name };
}

// ---- hostile values for body fields ----

const TEXT_PIECES = [
  ...NAME_PIECES,
  '\ud800',
  '\udfff',
  '\u0024{x}',
  '{{x}}',
  '__proto__',
  'T#x',
  '&',
  '<',
  '>',
];

export const hostileText: fc.Arbitrary<string> = fc.oneof(
  {
    arbitrary: fc.array(fc.constantFrom(...TEXT_PIECES), { maxLength: 8 }).map((p) => p.join('')),
    weight: 5,
  },
  {
    arbitrary: fc
      .tuple(
        fc.constantFrom('a', '\u00e9', 'e\u0301', '\u{1f600}', '\u0000'),
        fc.constantFrom(1, 64, 65, 128, 129, 255, 256, 4096, 4097, 9000),
      )
      .map(([c, n]) => c.repeat(n)),
    weight: 2,
  },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 30 }), weight: 2 },
);

/**
 * Number-ish JSON tokens, valid or not: huge, negative, fractional, unsafe, `-0`, numbers as
 * text, and tokens that are not JSON at all (`NaN`, `0x10`, `+1`).
 */
export const NUMBER_TOKENS = [
  '0',
  '-0',
  '1',
  '-1',
  '1.5',
  '-1.5',
  '1e-7',
  '0.0',
  '-0.0',
  '1.0',
  '1e2',
  '1E2',
  '100.000',
  '3650',
  '3651',
  '10000',
  '10001',
  '5368709120',
  '5368709121',
  '9007199254740991',
  '9007199254740992',
  '9007199254740993',
  '-9007199254740993',
  '1e308',
  '-1e308',
  '1e309',
  '1e400',
  '18446744073709551616',
  '123456789012345678901234567890',
  '4.9e-324',
  '0e0',
  '00',
  '01',
  '.5',
  '5.',
  '+1',
  'NaN',
  'Infinity',
  '-Infinity',
  '0x10',
  '"NaN"',
  '"Infinity"',
  '"1e308"',
  '"-0"',
  '"10"',
  '" 10"',
  '"0x10"',
  '""',
  'true',
  'null',
  '[1]',
  '{"$numberLong":"1"}',
];

/** One value of each JSON type, to put where another type belongs. */
export const VALUES_BY_TYPE: Record<string, string[]> = {
  string: ['"x"', '"10"', '"NaN"', '""', '"true"', '"null"', '"[]"'],
  number: ['1', '-1', '1.5', '1e308', '0'],
  boolean: ['true', 'false'],
  null: ['null'],
  array: ['[]', '[1]', '["x"]', '[{}]', '[null]'],
  object: ['{}', '{"a":1}', '{"__proto__":{"admin":true}}', '{"length":1}'],
};

/** A value of a JSON type the field does not take (a fraction for an integer field). */
export function wrongValues(types: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (const [type, values] of Object.entries(VALUES_BY_TYPE)) {
    const accepted = types.has(type) || (type === 'number' && (types.has('integer') || types.has('number')));
    if (!accepted) out.push(...values);
  }
  if (types.has('integer') && !types.has('number')) out.push('1.5', '-0.5', '1e-7');
  return out;
}

/** Keys no body schema has, including the ones prototype pollution goes for. */
export const UNKNOWN_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'tenantId',
  'tenant_id',
  'id',
  'uploadedBy',
  'status',
  'Filename',
  'filename ',
  '',
  '\u0000',
];

/** Bodies that are not JSON objects at all. */
export const NOT_OBJECTS = [
  '[]',
  '[{}]',
  '"x"',
  '1',
  'true',
  'null',
  '{',
  '{"a":',
  '{"a" 1}',
  "{'a':1}",
  '{a:1}',
  '{"a":1,}',
  '\u0000',
  '\ufeff{}',
  'undefined',
  '{"a":1}{"b":2}',
  '{"a":1} x',
  '[1,2',
  '"\\ud800"',
  '{"a":"\\x41"}',
];
