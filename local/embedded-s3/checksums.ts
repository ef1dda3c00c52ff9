import { createHash, type Hash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { s3Errors } from './errors.js';

/**
 * S3's additional checksums (`x-amz-checksum-*`) that the store computes and verifies. CRC32C
 * and CRC64NVME are refused as not implemented rather than stored unchecked.
 */
export type ChecksumAlgorithm = 'SHA256' | 'SHA1' | 'CRC32';

export interface ChecksumValue {
  algorithm: ChecksumAlgorithm;
  /** Base64, as S3 sends it. */
  value: string;
}

const DIGEST_BYTES: Record<ChecksumAlgorithm, number> = { SHA256: 32, SHA1: 20, CRC32: 4 };
const ALGORITHMS = new Set<string>(['SHA256', 'SHA1', 'CRC32']);
const UNSUPPORTED = new Set(['CRC32C', 'CRC64NVME']);

export const checksumHeader = (algorithm: ChecksumAlgorithm) => `x-amz-checksum-${algorithm.toLowerCase()}`;

/** A running hash of one algorithm; `digest()` answers base64. */
export interface ChecksumHasher {
  update(bytes: Buffer): void;
  digest(): string;
}

export function checksumHasher(algorithm: ChecksumAlgorithm): ChecksumHasher {
  if (algorithm === 'CRC32') {
    let value = 0;
    return {
      update: (bytes) => {
        value = crc32(bytes, value);
      },
      digest: () => {
        const out = Buffer.alloc(4);
        out.writeUInt32BE(value >>> 0);
        return out.toString('base64');
      },
    };
  }
  const hash: Hash = createHash(algorithm === 'SHA256' ? 'sha256' : 'sha1');
  return { update: (bytes) => hash.update(bytes), digest: () => hash.digest('base64') };
}

/** Parses an algorithm name (x-amz-checksum-algorithm, x-amz-sdk-checksum-algorithm). */
export function parseAlgorithm(name: string): ChecksumAlgorithm {
  const upper = name.trim().toUpperCase();
  if (ALGORITHMS.has(upper)) return upper as ChecksumAlgorithm;
  if (UNSUPPORTED.has(upper)) {
    throw s3Errors.notImplemented(
      `The embedded store does not verify ${upper} checksums; use SHA256 or CRC32`,
    );
  }
  throw s3Errors.invalidRequest(`Checksum algorithm '${name.slice(0, 40)}' is not valid`);
}

/** Checks that a base64 checksum value has the algorithm's digest length. */
export function validChecksum(algorithm: ChecksumAlgorithm, value: string): ChecksumValue {
  const bytes = Buffer.from(value, 'base64');
  if (
    !/^[A-Za-z0-9+/]+={0,2}$/.test(value) ||
    bytes.length !== DIGEST_BYTES[algorithm] ||
    bytes.toString('base64') !== value
  ) {
    throw s3Errors.invalidRequest(`Value for ${checksumHeader(algorithm)} header is invalid.`);
  }
  return { algorithm, value };
}

/**
 * What the request declares: a checksum value in a header, or the name of the trailer that will
 * carry it. At most one algorithm per request, as S3 requires.
 */
export type DeclaredChecksum =
  | { in: 'header'; checksum: ChecksumValue }
  | { in: 'trailer'; algorithm: ChecksumAlgorithm; trailer: string }
  | null;

export function declaredChecksum(header: (name: string) => string | undefined): DeclaredChecksum {
  const found: DeclaredChecksum[] = [];
  for (const name of ['sha256', 'sha1', 'crc32', 'crc32c', 'crc64nvme']) {
    const value = header(`x-amz-checksum-${name}`);
    if (value === undefined) continue;
    const algorithm = parseAlgorithm(name);
    found.push({ in: 'header', checksum: validChecksum(algorithm, value.trim()) });
  }
  const trailer = header('x-amz-trailer');
  if (trailer !== undefined) {
    const name = trailer.trim().toLowerCase();
    const match = /^x-amz-checksum-([a-z0-9]+)$/.exec(name);
    if (!match) throw s3Errors.invalidRequest(`The trailer '${name.slice(0, 60)}' is not a checksum trailer`);
    found.push({ in: 'trailer', algorithm: parseAlgorithm(match[1] as string), trailer: name });
  }
  if (found.length > 1) throw s3Errors.invalidRequest('Expecting a single x-amz-checksum- header');
  return found[0] ?? null;
}

/** Content-MD5 as 16 raw bytes; InvalidDigest when it is not base64 of 16 bytes. */
export function parseContentMd5(value: string | undefined): Buffer | null {
  if (value === undefined) return null;
  const bytes = Buffer.from(value.trim(), 'base64');
  if (bytes.length !== 16 || bytes.toString('base64') !== value.trim()) throw s3Errors.invalidDigest();
  return bytes;
}
