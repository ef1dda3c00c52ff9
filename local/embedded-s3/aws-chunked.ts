import { createHash, type Hash, timingSafeEqual } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { s3Errors } from './errors.js';
import { EMPTY_SHA256, type SigningContext } from './sigv4.js';

/**
 * Decodes an `aws-chunked` body (`Content-Encoding: aws-chunked`), the framing the SDK and
 * S3 clients use to stream a body of known length with per-chunk signatures
 * (STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]) or with trailing checksums
 * (STREAMING-UNSIGNED-PAYLOAD-TRAILER):
 *
 *   <hex size>[;chunk-signature=<sig>]\r\n <bytes> \r\n ... 0[;chunk-signature=<sig>]\r\n
 *   [<trailer name>:<value>\r\n ...] [x-amz-trailer-signature:<sig>\r\n] \r\n
 *
 * It passes the decoded bytes on, checks every chunk signature against the chain seeded by the
 * request's signature (and the trailer's), and keeps the trailers for the caller. Malformed
 * framing or a bad signature fails the stream with S3's error.
 */
export interface AwsChunkedOptions {
  /** Present for the signed forms: every chunk (and the trailer) must carry a valid signature. */
  signing: SigningContext | null;
  /** The trailer may carry a signature (STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER). */
  signedTrailer: boolean;
}

const MAX_LINE = 4096;
const MAX_TRAILER_LINES = 16;
const CHUNK_HEADER = /^([0-9a-fA-F]{1,16})((?:;[^;=\s]+=[^;\s]*)*)$/;

type State = 'header' | 'data' | 'data-end' | 'trailer' | 'done';

export class AwsChunkedDecoder extends Transform {
  /** Trailer headers (lower-case names), complete once the stream has finished. */
  readonly trailers = new Map<string, string>();
  private state: State = 'header';
  private line = '';
  private remaining = 0;
  private chunkSignature: string | null = null;
  private chunkHash: Hash | null = null;
  private previousSignature: string;
  private pendingCrlf = '';
  private readonly trailerLines: string[] = [];

  constructor(private readonly opts: AwsChunkedOptions) {
    super();
    this.previousSignature = opts.signing?.signature ?? '';
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.consume(chunk).then(
      () => done(),
      (error) => done(error),
    );
  }

  override _flush(done: TransformCallback): void {
    done(
      this.state === 'done'
        ? null
        : s3Errors.incompleteBody('The aws-chunked body ended before its final chunk'),
    );
  }

  private async consume(input: Buffer): Promise<void> {
    let offset = 0;
    while (offset < input.length) {
      switch (this.state) {
        case 'header':
        case 'trailer': {
          const end = input.indexOf(0x0a, offset);
          const piece = input.toString('latin1', offset, end === -1 ? input.length : end + 1);
          offset = end === -1 ? input.length : end + 1;
          this.line += piece;
          if (this.line.length > MAX_LINE) throw malformed('an aws-chunked line is too long');
          if (end === -1) break;
          if (!this.line.endsWith('\r\n')) throw malformed('aws-chunked lines end with CRLF');
          const line = this.line.slice(0, -2);
          this.line = '';
          if (this.state === 'header') await this.startChunk(line);
          else await this.trailerLine(line);
          break;
        }
        case 'data': {
          const take = Math.min(this.remaining, input.length - offset);
          const bytes = input.subarray(offset, offset + take);
          this.chunkHash?.update(bytes);
          this.push(bytes);
          this.remaining -= take;
          offset += take;
          if (this.remaining === 0) this.state = 'data-end';
          break;
        }
        case 'data-end': {
          while (offset < input.length && this.pendingCrlf.length < 2) {
            this.pendingCrlf += String.fromCharCode(input[offset] as number);
            offset += 1;
          }
          if (this.pendingCrlf.length < 2) break;
          if (this.pendingCrlf !== '\r\n') throw malformed('a chunk is longer than its declared size');
          this.pendingCrlf = '';
          await this.verifyChunk();
          this.state = 'header';
          break;
        }
        case 'done':
          throw malformed('bytes after the final aws-chunked chunk');
      }
    }
  }

  private async startChunk(line: string): Promise<void> {
    const match = CHUNK_HEADER.exec(line);
    if (!match) throw malformed('an aws-chunked chunk header is not <hex size>[;chunk-signature=...]');
    const size = Number.parseInt(match[1] as string, 16);
    const extensions = new Map(
      (match[2] ?? '')
        .split(';')
        .filter(Boolean)
        .map((pair) => pair.split('=') as [string, string]),
    );
    this.chunkSignature = extensions.get('chunk-signature') ?? null;
    if (this.opts.signing && this.chunkSignature === null) {
      throw s3Errors.signatureDoesNotMatch('A chunk of a signed aws-chunked body has no chunk-signature');
    }
    this.chunkHash = this.opts.signing ? createHash('sha256') : null;
    if (size > 0) {
      this.remaining = size;
      this.state = 'data';
      return;
    }
    await this.verifyChunk();
    this.state = 'trailer';
  }

  /** The chunk's signature: the previous one, the empty-header hash and this chunk's hash. */
  private async verifyChunk(): Promise<void> {
    const signing = this.opts.signing;
    if (!signing) return;
    const hash = (this.chunkHash ?? createHash('sha256')).digest('hex');
    const text = [
      'AWS4-HMAC-SHA256-PAYLOAD',
      signing.longDate,
      signing.scope,
      this.previousSignature,
      EMPTY_SHA256,
      hash,
    ].join('\n');
    const expected = await signing.sign(text);
    if (!sameHex(expected, this.chunkSignature ?? '')) {
      throw s3Errors.signatureDoesNotMatch('A chunk signature of the aws-chunked body does not match');
    }
    this.previousSignature = expected;
  }

  private async trailerLine(line: string): Promise<void> {
    if (line !== '') {
      if (this.trailerLines.length >= MAX_TRAILER_LINES) throw malformed('too many trailer lines');
      this.trailerLines.push(line);
      return;
    }
    let trailerSignature: string | null = null;
    const signedText: string[] = [];
    for (const entry of this.trailerLines) {
      const colon = entry.indexOf(':');
      if (colon <= 0) throw malformed('a trailer line is not <name>:<value>');
      const name = entry.slice(0, colon).trim().toLowerCase();
      const value = entry.slice(colon + 1).trim();
      if (name === 'x-amz-trailer-signature') {
        trailerSignature = value;
        continue;
      }
      this.trailers.set(name, value);
      signedText.push(`${name}:${value}\n`);
    }
    const signing = this.opts.signing;
    if (signing && this.opts.signedTrailer) {
      if (trailerSignature === null)
        throw s3Errors.signatureDoesNotMatch('The trailer has no x-amz-trailer-signature');
      const text = [
        'AWS4-HMAC-SHA256-TRAILER',
        signing.longDate,
        signing.scope,
        this.previousSignature,
        createHash('sha256').update(signedText.join(''), 'utf8').digest('hex'),
      ].join('\n');
      if (!sameHex(await signing.sign(text), trailerSignature)) {
        throw s3Errors.signatureDoesNotMatch('The trailer signature of the aws-chunked body does not match');
      }
    }
    this.state = 'done';
  }
}

function malformed(why: string) {
  return s3Errors.invalidRequest(`Malformed aws-chunked body: ${why}`);
}

function sameHex(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
