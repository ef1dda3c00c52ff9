import type { Readable } from 'node:stream';
import { PreviewFailedError } from '../../ports/preview-renderer.js';

/**
 * The whole source in memory (renderers need random access), refusing anything above
 * `maxBytes` as soon as it is seen: the stream is destroyed, never read to its end.
 */
export async function readSource(
  source: Uint8Array | Readable,
  maxBytes: number,
  knownSize?: number,
): Promise<Uint8Array> {
  if (knownSize !== undefined && knownSize > maxBytes) {
    if (!(source instanceof Uint8Array)) source.destroy();
    throw tooLarge(knownSize, maxBytes);
  }
  if (source instanceof Uint8Array) {
    if (source.byteLength > maxBytes) throw tooLarge(source.byteLength, maxBytes);
    // pdf.js refuses Buffers and may transfer (detach) what it is given: it gets its own copy.
    return new Uint8Array(source);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of source) {
      const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
      total += buffer.byteLength;
      if (total > maxBytes) throw tooLarge(total, maxBytes);
      chunks.push(buffer);
    }
  } finally {
    source.destroy();
  }
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  return bytes;
}

const tooLarge = (size: number, maxBytes: number) =>
  new PreviewFailedError(
    'too-large',
    `The file is over ${maxBytes} bytes (${size} or more); it is not previewed.`,
  );
