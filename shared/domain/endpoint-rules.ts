import { BlockList, isIP } from 'node:net';

/**
 * Which URLs the service may call on a tenant's behalf (API.md section 13.7): provider
 * endpoints now, webhook URLs later. A pure rule: it reads the URL and classifies addresses;
 * resolving names is the caller's (a port), and the same classification runs again on the
 * address actually connected to (shared/adapters/guarded-http.ts), so DNS rebinding cannot pass.
 *
 * Addresses are matched with node:net's BlockList (pure computation, no sockets) rather than a
 * package: it knows IPv4-mapped IPv6, and costs the 1 MB API bundle nothing.
 */

export type EndpointVerdict =
  /** The operator listed this exact origin: any scheme and address are allowed for it. */
  | { kind: 'allow-listed'; origin: string }
  /** An https URL naming a public IP address. */
  | { kind: 'public-address'; origin: string }
  /** An https URL naming a host: every address it resolves to must be public. */
  | { kind: 'resolve'; origin: string; hostname: string }
  | { kind: 'refused'; reason: string };

/**
 * IPv4 blocks that are not globally reachable (IANA IPv4 special-purpose registry), plus
 * multicast and the reserved 240/4 (which holds the broadcast address).
 */
const NOT_PUBLIC_V4: readonly [string, number][] = [
  ['0.0.0.0', 8], // "this network", 0.0.0.0 included
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, 169.254.169.254 (instance metadata) included
  ['172.16.0.0', 12],
  ['192.0.0.0', 24], // IETF protocol assignments (DS-Lite, NAT64 discovery...)
  ['192.0.2.0', 24],
  ['192.88.99.0', 24], // deprecated 6to4 relay anycast
  ['192.168.0.0', 16],
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, 255.255.255.255 included
];

/**
 * IPv6 is allowed only inside global unicast (2000::/3), which leaves out loopback, the
 * unspecified address, IPv4-compatible and -mapped forms, link-local (fe80::/10, AWS's
 * fd00:ec2::254 is unique-local), unique-local (fc00::/7), site-local and multicast. Inside it
 * these are refused too: IETF assignments with Teredo (2001::/23), documentation, 6to4 (2002::/16,
 * which embeds an IPv4 address) and SRv6. NAT64 (64:ff9b::/96) lies outside 2000::/3.
 */
const NOT_PUBLIC_V6: readonly [string, number][] = [
  ['2001::', 23],
  ['2001:db8::', 32],
  ['2002::', 16],
  ['3fff::', 20],
  ['5f00::', 16],
];

const blockedV4 = new BlockList();
for (const [net, prefix] of NOT_PUBLIC_V4) blockedV4.addSubnet(net, prefix, 'ipv4');
const blockedV6 = new BlockList();
for (const [net, prefix] of NOT_PUBLIC_V6) blockedV6.addSubnet(net, prefix, 'ipv6');
const globalUnicastV6 = new BlockList();
globalUnicastV6.addSubnet('2000::', 3, 'ipv6');
const mappedV4 = new BlockList();
mappedV4.addSubnet('::ffff:0:0', 96, 'ipv6');

/** Whether an IP address (as Node or DNS writes it) is a public, globally reachable unicast address. */
export function isPublicAddress(address: string): boolean {
  const bare = unbracket(address);
  try {
    const family = isIP(bare);
    if (family === 4) return !blockedV4.check(bare, 'ipv4');
    if (family !== 6) return false;
    // An IPv4-mapped address connects to its IPv4 address: judge that one (BlockList maps it).
    if (mappedV4.check(bare, 'ipv6')) return !blockedV4.check(bare, 'ipv6');
    return globalUnicastV6.check(bare, 'ipv6') && !blockedV6.check(bare, 'ipv6');
  } catch {
    return false; // anything BlockList cannot read (a zone id...) is not known to be public
  }
}

/**
 * `scheme://host[:port]` in its canonical form (WHATWG URL: lower case, default port dropped,
 * IPv4 spellings such as `2130706433` or `0x7f.1` made dotted), or null when `raw` is not a
 * bare http(s) origin.
 */
export function canonicalOrigin(raw: string): string | null {
  return parseOrigin(raw)?.origin ?? null;
}

/** `FILESTORE_ALLOWED_ENDPOINTS`: comma-separated origins, canonical; or the first entry that is not one. */
export function parseAllowedOrigins(raw: string): { origins: string[] } | { bad: string } {
  const origins: string[] = [];
  for (const entry of raw.split(',').map((e) => e.trim())) {
    if (entry === '') continue;
    const origin = canonicalOrigin(entry);
    if (!origin) return { bad: entry };
    origins.push(origin);
  }
  return { origins };
}

/** The origin a connection goes to, canonical, for matching against the allow-list. */
export function originOf(protocol: 'http:' | 'https:', host: string, port: number | string): string | null {
  const bare = unbracket(host);
  return canonicalOrigin(`${protocol}//${isIP(bare) === 6 ? `[${bare}]` : bare}:${port}`);
}

/**
 * Judges a URL the service would call. It must be a bare origin: http(s), no userinfo
 * (`user@host`), no path but `/`, no query or fragment, nothing URL parsing would drop or
 * rewrite (whitespace, controls, backslashes, `/..`). Then plain http and non-public IP
 * literals are refused unless the origin is allow-listed; a host name goes on to resolution.
 */
export function judgeEndpoint(raw: string, allowedOrigins: readonly string[]): EndpointVerdict {
  const url = parseOrigin(raw);
  if (!url) return refused('must be https://host[:port] with no user name, path, query or fragment');
  const origin = url.origin;
  if (allowedOrigins.includes(origin)) return { kind: 'allow-listed', origin };
  if (url.protocol !== 'https:') return refused('must use https');
  const host = unbracket(url.hostname);
  if (isIP(host) === 0) return { kind: 'resolve', origin, hostname: host };
  return isPublicAddress(host)
    ? { kind: 'public-address', origin }
    : refused('must not name a loopback, private, link-local or other non-public address');
}

/**
 * Judges a webhook URL (API.md 13.5): the rule of `judgeEndpoint` on its origin, with a path
 * and query allowed (a receiver routes on them) and still no userinfo, fragment, backslash,
 * dot segment or anything URL parsing would rewrite.
 */
export function judgeWebhookUrl(raw: string, allowedOrigins: readonly string[]): EndpointVerdict {
  const shape = 'must be https://host[:port]/path with no user name or fragment';
  if (!/^https?:\/\/[^/?#@\\]+(\/[^#\\]*)?$/i.test(raw) || !/^[\x21-\x7e]+$/.test(raw)) return refused(shape);
  const path = raw.replace(/^https?:\/\/[^/?#]+/i, '').split('?')[0] ?? '';
  if (path.split('/').some((segment) => /^(\.|%2e){1,2}$/i.test(segment))) return refused(shape);
  let origin: string;
  try {
    origin = new URL(raw).origin;
  } catch {
    return refused(shape);
  }
  return judgeEndpoint(origin, allowedOrigins);
}

/**
 * What resolution found, judged: true when every address is public. One private answer among
 * public ones refuses the name (which one a connection would get is not ours to choose).
 */
export const allPublic = (addresses: readonly string[]): boolean =>
  addresses.length > 0 && addresses.every(isPublicAddress);

/**
 * The one reason given for a name that does not resolve or resolves to a non-public address:
 * telling them apart, or naming the address, would let a tenant map the deployment's own DNS.
 */
export const NOT_PUBLIC_HOST = 'must resolve to public addresses only';

/**
 * The text itself is checked, not only the parsed URL: parsing drops tabs and edge spaces,
 * turns `/..` into `/`, takes `https:host` and `\` for `/`, and hides an empty `@`, `?` or `#`.
 */
function parseOrigin(raw: string): URL | null {
  if (!/^https?:\/\/[^/?#@\\]+\/?$/i.test(raw) || !/^[\x21-\x7e]+$/.test(raw)) return null;
  try {
    return new URL(raw);
  } catch {
    return null;
  }
}

const unbracket = (host: string) => host.replace(/^\[(.*)\]$/, '$1');
const refused = (reason: string): EndpointVerdict => ({ kind: 'refused', reason });
