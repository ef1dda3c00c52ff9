import { describe, expect, it } from 'vitest';
import {
  allPublic,
  canonicalOrigin,
  isPublicAddress,
  judgeEndpoint,
  originOf,
  parseAllowedOrigins,
} from '../../../shared/domain/endpoint-rules.js';

describe('isPublicAddress', () => {
  it.each([
    '8.8.8.8',
    '52.216.8.1', // an S3 address
    '1.1.1.1',
    '2606:4700::1111',
    '2a05:d07a:a0ff:ffff:ffff:ffff:ffff:fffe',
    '::ffff:8.8.8.8', // IPv4-mapped: connects to 8.8.8.8
  ])('%s is public', (address) => expect(isPublicAddress(address)).toBe(true));

  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'this network'],
    ['10.0.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'carrier-grade NAT'],
    ['100.127.255.254', 'carrier-grade NAT'],
    ['169.254.169.254', 'instance metadata'],
    ['169.254.0.1', 'link-local'],
    ['192.0.0.170', 'NAT64 discovery'],
    ['192.0.2.1', 'documentation'],
    ['198.18.0.1', 'benchmarking'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['240.0.0.1', 'reserved'],
    ['255.255.255.255', 'broadcast'],
    ['::1', 'IPv6 loopback'],
    ['::', 'IPv6 unspecified'],
    ['[::1]', 'bracketed loopback'],
    ['fe80::1', 'IPv6 link-local'],
    ['fe80::1%eth0', 'link-local with a zone'],
    ['fd00:ec2::254', 'the EC2 IPv6 metadata address'],
    ['fc00::1', 'unique-local'],
    ['fec0::1', 'site-local'],
    ['ff02::1', 'IPv6 multicast'],
    ['::ffff:127.0.0.1', 'IPv4-mapped loopback'],
    ['::ffff:7f00:1', 'IPv4-mapped loopback, hex'],
    ['0:0:0:0:0:ffff:a9fe:a9fe', 'IPv4-mapped metadata, uncompressed'],
    ['::ffff:10.0.0.1', 'IPv4-mapped private'],
    ['::127.0.0.1', 'IPv4-compatible loopback'],
    ['64:ff9b::7f00:1', 'NAT64 of loopback'],
    ['64:ff9b::808:808', 'NAT64 (refused as a whole)'],
    ['2002:7f00:1::1', '6to4 of loopback'],
    ['2001::1', 'Teredo'],
    ['2001:db8::1', 'documentation'],
    ['100::1', 'discard'],
    ['localhost', 'a name, not an address'],
    ['127.1', 'a short IPv4 spelling, not an address to Node'],
    ['', 'empty'],
  ])('%s is not public (%s)', (address) => expect(isPublicAddress(address)).toBe(false));
});

describe('judgeEndpoint', () => {
  const allowed = ['http://127.0.0.1:4569', 'https://minio.internal:9000'];

  it.each([
    ['https://s3.eu-west-1.amazonaws.com', 'resolve'],
    ['https://minio.example.com:9443/', 'resolve'],
    ['HTTPS://MinIO.Example.com', 'resolve'],
    ['https://8.8.8.8', 'public-address'],
    ['https://[2606:4700::1111]', 'public-address'],
    ['http://127.0.0.1:4569', 'allow-listed'],
    ['http://127.0.0.1:4569/', 'allow-listed'],
    ['https://minio.internal:9000', 'allow-listed'],
    // Not the listed origin: an ordinary name then, which must resolve to public addresses.
    ['https://minio.internal', 'resolve'],
  ])('%s → %s', (raw, kind) => expect(judgeEndpoint(raw, allowed).kind).toBe(kind));

  it.each([
    ['http://127.0.0.1:4570', 'another port of an allowed host'],
    ['http://127.0.0.1:4569/x', 'a path on an allowed origin'],
    ['http://localhost:4569', 'another spelling of an allowed origin'],
    ['https://127.0.0.1:4569', 'another scheme of an allowed origin'],
    ['http://example.com', 'plain http'],
    ['https://127.0.0.1', 'loopback'],
    ['https://169.254.169.254', 'metadata'],
    ['https://[fd00:ec2::254]', 'IPv6 metadata'],
    ['https://[::ffff:127.0.0.1]', 'IPv4-mapped loopback'],
    ['https://[::ffff:169.254.169.254]', 'IPv4-mapped metadata'],
    ['https://[::]', 'unspecified'],
    ['https://[::1]:8443', 'IPv6 loopback'],
    ['https://2130706433', 'loopback as one decimal number'],
    ['https://0x7f.1', 'loopback in hex, short'],
    ['https://0177.0.0.1', 'loopback in octal'],
    ['https://127.1', 'loopback, short'],
    ['https://0', 'zero'],
    ['https://10.1.2.3:443', 'private'],
    ['https://user@example.com', 'userinfo'],
    ['https://user:pass@example.com', 'userinfo with a password'],
    ['https://@example.com', 'empty userinfo'],
    ['https://example.com@127.0.0.1', 'userinfo hiding the real host'],
    ['https://example.com/path', 'a path'],
    ['https://example.com/path?x', 'a path and query'],
    ['https://example.com/?x=1', 'a query'],
    ['https://example.com?', 'an empty query'],
    ['https://example.com#frag', 'a fragment'],
    ['https://example.com/..', 'a dot path'],
    ['https://example.com/%2e%2e', 'an encoded dot path'],
    ['https:\\\\example.com', 'backslashes'],
    ['https://example.com\\@127.0.0.1', 'a backslash trick'],
    ['https:example.com', 'no slashes'],
    ['https://exa\tmple.com', 'a tab URL parsing would drop'],
    [' https://example.com', 'a leading space'],
    ['https://example.com\n', 'a trailing newline'],
    ['ftp://example.com', 'another scheme'],
    ['file:///etc/passwd', 'a file URL'],
    ['not a url', 'not a URL'],
  ])('%s is refused (%s)', (raw) => expect(judgeEndpoint(raw, allowed).kind).toBe('refused'));

  it('hands a host name on to resolution, bare and lower case', () => {
    expect(judgeEndpoint('https://Bucket.Example.COM:8443', [])).toEqual({
      kind: 'resolve',
      origin: 'https://bucket.example.com:8443',
      hostname: 'bucket.example.com',
    });
  });
});

describe('allow-list and origins', () => {
  it('reads FILESTORE_ALLOWED_ENDPOINTS into canonical origins', () => {
    expect(
      parseAllowedOrigins(' http://MinIO:9000/ , https://s3.example.com:443,,http://[::1]:4569'),
    ).toEqual({
      origins: ['http://minio:9000', 'https://s3.example.com', 'http://[::1]:4569'],
    });
    expect(parseAllowedOrigins('')).toEqual({ origins: [] });
  });

  it.each(['http://minio:9000/path', 'minio:9000', 'http://user@minio', 'ftp://x', 'http://x?y'])(
    'refuses %s as an allow-list entry',
    (entry) => expect(parseAllowedOrigins(`http://ok:1,${entry}`)).toEqual({ bad: entry }),
  );

  it('names a connection by the same canonical origin', () => {
    expect(originOf('http:', '127.0.0.1', 4569)).toBe('http://127.0.0.1:4569');
    expect(originOf('https:', '::1', '443')).toBe('https://[::1]');
    expect(originOf('https:', 'MinIO.example.com', 9000)).toBe('https://minio.example.com:9000');
    expect(canonicalOrigin('https://x.example.com:443/')).toBe('https://x.example.com');
  });

  it('accepts resolution results only when every address is public', () => {
    expect(allPublic(['8.8.8.8', '2606:4700::1111'])).toBe(true);
    expect(allPublic(['8.8.8.8', '127.0.0.1'])).toBe(false);
    expect(allPublic([])).toBe(false);
  });
});
