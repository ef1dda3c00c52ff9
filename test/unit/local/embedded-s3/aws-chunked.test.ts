import { createHash } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { AwsChunkedDecoder } from '../../../../local/embedded-s3/aws-chunked.js';
import { type SigningContext, signWithKey } from '../../../../local/embedded-s3/sigv4.js';

/**
 * AWS's published signed streaming upload (S3 API reference, "Transferring payload in multiple
 * chunks"): 66,560 bytes of `a` in chunks of 65,536, 1,024 and 0 bytes, with these signatures.
 */
const AWS = {
  // Chunk signatures do not cover the key id: any id signs AWS's example alike.
  accessKeyId: 'EXAMPLEKEYID',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
};
const SEED = '4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9';
const CHUNKS: [number, string][] = [
  [65536, 'ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648'],
  [1024, '0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497'],
  [0, 'b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9'],
];
const signing: SigningContext = {
  longDate: '20130524T000000Z',
  scope: '20130524/us-east-1/s3/aws4_request',
  signature: SEED,
  sign: (text) => signWithKey(AWS, new Date('2013-05-24T00:00:00Z'), 'us-east-1', text),
};

function awsExampleBody(corrupt = false): Buffer {
  const parts: Buffer[] = [];
  for (const [size, signature] of CHUNKS) {
    const data = Buffer.alloc(size, 'a');
    if (corrupt && size === 1024) data[10] = 0x62;
    parts.push(
      Buffer.from(`${size.toString(16)};chunk-signature=${signature}\r\n`),
      data,
      Buffer.from('\r\n'),
    );
  }
  return Buffer.concat(parts);
}

/** Runs a body through the decoder in pieces of `piece` bytes; answers the bytes or the error code. */
async function decode(body: Buffer, decoder: AwsChunkedDecoder, piece = 4096) {
  const pieces: Buffer[] = [];
  for (let at = 0; at < body.length; at += piece) pieces.push(body.subarray(at, at + piece));
  const out: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      out.push(chunk);
      done();
    },
  });
  try {
    await pipeline(Readable.from(pieces), decoder, sink);
    return { bytes: Buffer.concat(out), trailers: decoder.trailers };
  } catch (error) {
    return { error: (error as { code?: string }).code ?? String(error) };
  }
}

describe('AwsChunkedDecoder', () => {
  it.each([1, 7, 4096, 70_000])(
    "decodes AWS's signed example and checks each chunk signature (pieces of %d bytes)",
    async (piece) => {
      // Act
      const result = await decode(
        awsExampleBody(),
        new AwsChunkedDecoder({ signing, signedTrailer: false }),
        piece,
      );

      // Assess
      expect(result.error).toBeUndefined();
      expect(result.bytes?.length).toBe(66560);
      expect(result.bytes?.equals(Buffer.alloc(66560, 'a'))).toBe(true);
    },
  );

  it('refuses the example with one byte of the second chunk changed', async () => {
    const result = await decode(
      awsExampleBody(true),
      new AwsChunkedDecoder({ signing, signedTrailer: false }),
    );
    expect(result.error).toBe('SignatureDoesNotMatch');
  });

  it('refuses the example signed by another secret', async () => {
    const other: SigningContext = {
      ...signing,
      sign: (text) =>
        signWithKey(
          { ...AWS, secretAccessKey: 'another' },
          new Date('2013-05-24T00:00:00Z'),
          'us-east-1',
          text,
        ),
    };
    expect(
      (await decode(awsExampleBody(), new AwsChunkedDecoder({ signing: other, signedTrailer: false }))).error,
    ).toBe('SignatureDoesNotMatch');
  });

  it('refuses chunks without signatures when the request was signed as streaming', async () => {
    const body = Buffer.from('5\r\nhello\r\n0\r\n\r\n');
    expect((await decode(body, new AwsChunkedDecoder({ signing, signedTrailer: false }))).error).toBe(
      'SignatureDoesNotMatch',
    );
  });

  it('keeps the trailing checksum of STREAMING-UNSIGNED-PAYLOAD-TRAILER, as the AWS SDK sends it', async () => {
    // Prepare: the body the SDK (3.117x) wrote for PutObject({ Body: stream, ChecksumAlgorithm: 'SHA256' }).
    const checksum = createHash('sha256').update('hello').digest('base64');
    const body = Buffer.from(`5\r\nhello\r\n0\r\nx-amz-checksum-sha256:${checksum}\r\n\r\n`);

    // Act
    const result = await decode(body, new AwsChunkedDecoder({ signing: null, signedTrailer: false }), 3);

    // Assess
    expect(result.bytes?.toString()).toBe('hello');
    expect(result.trailers?.get('x-amz-checksum-sha256')).toBe(checksum);
  });

  it('checks the trailer signature of STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER', async () => {
    // Prepare: chunk, final chunk and trailer signed along the chain from the seed.
    const sha = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
    const empty = sha('');
    const chunkSignature = (previous: string, data: Buffer) =>
      signing.sign(
        ['AWS4-HMAC-SHA256-PAYLOAD', signing.longDate, signing.scope, previous, empty, sha(data)].join('\n'),
      );
    const first = await chunkSignature(SEED, Buffer.from('hello'));
    const last = await chunkSignature(first, Buffer.alloc(0));
    const trailer = 'x-amz-checksum-crc32:NhCmhg==\n';
    const trailerSignature = await signing.sign(
      ['AWS4-HMAC-SHA256-TRAILER', signing.longDate, signing.scope, last, sha(trailer)].join('\n'),
    );
    const body = (signature: string) =>
      Buffer.from(
        `5;chunk-signature=${first}\r\nhello\r\n0;chunk-signature=${last}\r\nx-amz-checksum-crc32:NhCmhg==\r\nx-amz-trailer-signature:${signature}\r\n\r\n`,
      );

    // Act
    const good = await decode(
      body(trailerSignature),
      new AwsChunkedDecoder({ signing, signedTrailer: true }),
    );
    const bad = await decode(body(first), new AwsChunkedDecoder({ signing, signedTrailer: true }));

    // Assess
    expect(good.trailers?.get('x-amz-checksum-crc32')).toBe('NhCmhg==');
    expect(bad.error).toBe('SignatureDoesNotMatch');
  });

  it.each([
    ['a chunk longer than its size', '3\r\nhello\r\n0\r\n\r\n', 'InvalidRequest'],
    ['a size that is not hex', 'zz\r\nhello\r\n0\r\n\r\n', 'InvalidRequest'],
    ['a body cut before the final chunk', '5\r\nhello\r\n', 'IncompleteBody'],
    ['a body cut inside a chunk', '5\r\nhel', 'IncompleteBody'],
    ['bytes after the final chunk', '5\r\nhello\r\n0\r\n\r\nmore', 'InvalidRequest'],
    ['a header line without CRLF', '5\nhello\r\n0\r\n\r\n', 'InvalidRequest'],
    ['an endless header line', `${'1'.repeat(5000)}\r\n`, 'InvalidRequest'],
  ])('refuses %s', async (_, text, code) => {
    const result = await decode(
      Buffer.from(text),
      new AwsChunkedDecoder({ signing: null, signedTrailer: false }),
    );
    expect(result.error).toBe(code);
  });
});
