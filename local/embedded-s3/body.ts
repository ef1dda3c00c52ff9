import { createHash, type Hash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { type Readable, Transform, type TransformCallback, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AwsChunkedDecoder } from './aws-chunked.js';
import {
  type ChecksumHasher,
  type ChecksumValue,
  checksumHasher,
  type DeclaredChecksum,
  validChecksum,
} from './checksums.js';
import { S3Error, s3Errors } from './errors.js';
import type { PayloadSigning, SigningContext } from './sigv4.js';

/** What a request body must be, from its headers and signature. */
export interface BodySpec {
  /** The decoded length: Content-Length, or x-amz-decoded-content-length for aws-chunked. */
  length: number;
  /** aws-chunked framing to decode. */
  chunked: boolean;
  payload: PayloadSigning;
  signing: SigningContext | null;
  contentMd5: Buffer | null;
  checksum: DeclaredChecksum;
}

export interface ReceivedBody {
  size: number;
  /** MD5 of the bytes in hex: the ETag of a single-part object. */
  md5Hex: string;
  /** The verified additional checksum, when the request declared one. */
  checksum: ChecksumValue | null;
}

/**
 * Streams a body to `path`, checking everything the request promised about it: its exact
 * length, the signed payload hash or chunk signatures, Content-MD5 and x-amz-checksum-*. On any
 * failure the file is removed and S3's error thrown; nothing is ever buffered whole.
 */
export async function receiveToFile(source: Readable, spec: BodySpec, path: string): Promise<ReceivedBody> {
  try {
    return await receive(source, spec, createWriteStream(path, { flags: 'wx', mode: 0o600 }));
  } catch (error) {
    await rm(path, { force: true });
    throw error;
  }
}

/** The same checks for a small body (XML requests), kept in memory up to `limit` bytes. */
export async function receiveToBuffer(
  source: Readable,
  spec: BodySpec,
  limit: number,
): Promise<{ body: Buffer } & ReceivedBody> {
  if (spec.length > limit)
    throw s3Errors.entityTooLarge(`The request body is limited to ${limit} bytes here`);
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk);
      done();
    },
  });
  const received = await receive(source, spec, sink);
  return { ...received, body: Buffer.concat(chunks) };
}

/**
 * The `file` part of a POST form, whose length only the policy bounds: more than `max` bytes
 * stops the upload at once (EntityTooLarge), fewer than `min` refuses it (EntityTooSmall).
 */
export async function receiveFormFile(
  source: Readable,
  spec: { min: number; max: number; checksum: DeclaredChecksum },
  path: string,
): Promise<ReceivedBody> {
  const algorithm = spec.checksum?.in === 'header' ? spec.checksum.checksum.algorithm : null;
  const meter = new BodyMeter(spec.max, false, algorithm ? checksumHasher(algorithm) : null, () =>
    s3Errors.entityTooLarge(undefined, { MaxSizeAllowed: spec.max }),
  );
  try {
    await pipeline(source, meter, createWriteStream(path, { flags: 'wx', mode: 0o600 }));
    if (meter.size < spec.min) throw s3Errors.entityTooSmall(undefined, { MinSizeAllowed: spec.min });
    return {
      size: meter.size,
      md5Hex: meter.md5().toString('hex'),
      checksum: verifiedChecksum(spec.checksum, meter, null),
    };
  } catch (error) {
    await rm(path, { force: true });
    if (error instanceof S3Error) throw error;
    throw s3Errors.incompleteBody();
  }
}

async function receive(source: Readable, spec: BodySpec, sink: Writable): Promise<ReceivedBody> {
  const decoder = spec.chunked
    ? new AwsChunkedDecoder({
        signing: spec.payload.kind === 'streaming-signed' ? spec.signing : null,
        signedTrailer: spec.payload.kind === 'streaming-signed' && spec.payload.trailer,
      })
    : null;
  const algorithm =
    spec.checksum?.in === 'header'
      ? spec.checksum.checksum.algorithm
      : spec.checksum?.in === 'trailer'
        ? spec.checksum.algorithm
        : null;
  const meter = new BodyMeter(
    spec.length,
    spec.payload.kind === 'sha256',
    algorithm ? checksumHasher(algorithm) : null,
  );
  try {
    if (decoder) await pipeline(source, decoder, meter, sink);
    else await pipeline(source, meter, sink);
  } catch (error) {
    if (error instanceof S3Error) throw error;
    // The client went away or the socket failed: there is no whole body to keep.
    throw s3Errors.incompleteBody();
  }

  if (meter.size !== spec.length) throw s3Errors.incompleteBody();
  if (spec.payload.kind === 'sha256' && meter.sha256Hex() !== spec.payload.hex) {
    throw s3Errors.contentSha256Mismatch(undefined, {
      ClientComputedContentSHA256: spec.payload.hex,
      S3ComputedContentSHA256: meter.sha256Hex() ?? '',
    });
  }
  const md5 = meter.md5();
  if (spec.contentMd5 && !spec.contentMd5.equals(md5)) {
    throw s3Errors.badDigest('The Content-MD5 you specified did not match what we received.');
  }
  return {
    size: meter.size,
    md5Hex: md5.toString('hex'),
    checksum: verifiedChecksum(spec.checksum, meter, decoder),
  };
}

function verifiedChecksum(
  declared: DeclaredChecksum,
  meter: BodyMeter,
  decoder: AwsChunkedDecoder | null,
): ChecksumValue | null {
  if (declared === null) return null;
  const computed = meter.checksum();
  let expected: ChecksumValue;
  if (declared.in === 'header') expected = declared.checksum;
  else {
    const value = decoder?.trailers.get(declared.trailer);
    if (value === undefined)
      throw s3Errors.invalidRequest(`The trailer ${declared.trailer} was declared but not sent`);
    expected = validChecksum(declared.algorithm, value);
  }
  if (computed !== expected.value) {
    throw s3Errors.badDigest(
      `The ${expected.algorithm} checksum you specified did not match the calculated checksum.`,
    );
  }
  return expected;
}

/** Counts, hashes and enforces the declared length as bytes pass. */
class BodyMeter extends Transform {
  size = 0;
  private readonly md5Hash: Hash = createHash('md5');
  private readonly sha256: Hash | null;
  private sha256Digest: string | null = null;

  constructor(
    private readonly limit: number,
    hashPayload: boolean,
    private readonly hasher: ChecksumHasher | null,
    private readonly tooLong = () => s3Errors.invalidRequest('The body is longer than its declared length'),
  ) {
    super();
    this.sha256 = hashPayload ? createHash('sha256') : null;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.size += chunk.length;
    if (this.size > this.limit) {
      done(this.tooLong());
      return;
    }
    this.md5Hash.update(chunk);
    this.sha256?.update(chunk);
    this.hasher?.update(chunk);
    done(null, chunk);
  }

  md5(): Buffer {
    return this.md5Hash.digest();
  }

  sha256Hex(): string | null {
    this.sha256Digest ??= this.sha256?.digest('hex') ?? null;
    return this.sha256Digest;
  }

  checksum(): string | null {
    return this.hasher?.digest() ?? null;
  }
}
