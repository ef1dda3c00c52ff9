import { createHash, randomBytes } from 'node:crypto';

const BLOCK_BYTES = 1024 * 1024;
const PDF_HEADER = Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n', 'latin1');

/**
 * Bytes of any length that sniff as a PDF, produced on demand from one 1 MiB block (a PDF
 * header, then random bytes), so a 200 MiB object never sits in memory as a whole.
 */
export interface PdfBytes {
  /** Bytes [start, end) as a sequence of views of the block. */
  range(start: number, end: number): Generator<Uint8Array>;
  sha256Hex(size: number): string;
}

export function createPdfBytes(): PdfBytes {
  const block = randomBytes(BLOCK_BYTES);
  PDF_HEADER.copy(block, 0);
  function* range(start: number, end: number): Generator<Uint8Array> {
    let at = start;
    while (at < end) {
      const offset = at % BLOCK_BYTES;
      const length = Math.min(BLOCK_BYTES - offset, end - at);
      yield block.subarray(offset, offset + length);
      at += length;
    }
  }
  return {
    range,
    sha256Hex(size) {
      const hash = createHash('sha256');
      for (const chunk of range(0, size)) hash.update(chunk);
      return hash.digest('hex');
    },
  };
}
