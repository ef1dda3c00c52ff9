export interface VerifyWebhookSignatureInput {
  /** The request body exactly as received (bytes or text), before any JSON parsing. */
  body: string | Uint8Array;
  /** The `Stowage-Signature` header: `t=<unix seconds>,v1=<hex>` (several `v1` while a secret rotates). */
  header: string | null | undefined;
  /** The webhook's secret, from its creation answer. */
  secret: string;
  /** How old (or how far ahead) `t` may be. @default 300 */
  toleranceSeconds?: number;
  /** Now, in ms since the epoch (tests). @default Date.now() */
  now?: number;
}

/**
 * Checks a webhook delivery (API.md 13.5): HMAC-SHA256 of `"<t>.<body>"` with the secret, compared
 * in constant time, and `t` within the tolerance so a captured delivery cannot be replayed later.
 * Web Crypto only: the same code runs in Node 20 and in browsers. Resolves true or false, never throws.
 */
export async function verifyWebhookSignature(input: VerifyWebhookSignatureInput): Promise<boolean> {
  const parsed = parseHeader(input.header);
  if (!parsed) return false;
  const tolerance = input.toleranceSeconds ?? 300;
  const nowSeconds = Math.floor((input.now ?? Date.now()) / 1000);
  if (Math.abs(nowSeconds - parsed.t) > tolerance) return false;
  const encoder = new TextEncoder();
  const body = typeof input.body === 'string' ? encoder.encode(input.body) : input.body;
  const prefix = encoder.encode(`${parsed.t}.`);
  const signed = new Uint8Array(prefix.length + body.length);
  signed.set(prefix, 0);
  signed.set(body, prefix.length);
  const key = await globalThis.crypto.subtle.importKey(
    'raw',
    encoder.encode(input.secret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  const mac = new Uint8Array(await globalThis.crypto.subtle.sign('HMAC', key, signed));
  return parsed.v1.some((candidate) => sameBytes(mac, candidate));
}

function parseHeader(header: string | null | undefined): { t: number; v1: Uint8Array[] } | null {
  if (!header) return null;
  let t: number | null = null;
  const v1: Uint8Array[] = [];
  for (const part of header.split(',')) {
    const [name, value = ''] = part.trim().split('=', 2);
    if (name === 't' && /^\d{1,12}$/.test(value)) t = Number(value);
    else if (name === 'v1' && /^[0-9a-f]{64}$/i.test(value)) v1.push(fromHex(value));
  }
  return t === null || v1.length === 0 ? null : { t, v1 };
}

const fromHex = (hex: string) => Uint8Array.from(hex.match(/../g) ?? [], (b) => Number.parseInt(b, 16));

/** Constant time for equal lengths: every byte is compared whatever the first difference. */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i += 1) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}
