import { constants, deflateSync } from 'node:zlib';

/**
 * A small PDF whose one page's content stream inflates to `inflatedBytes` of spaces (PDF
 * whitespace, so a reader keeps decoding to the end): about 1 MB of Flate per GiB, the shape of
 * a decompression bomb. Built from one compressed block repeated: deflate's stored dictionary
 * makes each 1 MiB of spaces the same few bytes, so making a GiB costs no GiB here.
 */
export function flateBombPdf(inflatedBytes: number): Buffer {
  const chunk = 1024 * 1024;
  // A full-flush block of 1 MiB of spaces, byte-aligned so copies of it concatenate into one stream.
  const block = deflateSync(Buffer.alloc(chunk, 0x20), {
    level: 9,
    finishFlush: constants.Z_FULL_FLUSH,
  });
  const header = Buffer.from([0x78, 0xda]); // zlib header: deflate, best compression
  // Without its zlib header; it ends with the flush's empty stored block, so copies follow on.
  const body = block.subarray(2);
  const count = Math.ceil(inflatedBytes / chunk);
  const stream = Buffer.concat([header, ...Array.from({ length: count }, () => body), finalBlock()]);
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << >> >>',
  ];
  const parts: Buffer[] = [Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n', 'latin1')];
  const offsets: number[] = [];
  let length = parts[0]?.length ?? 0;
  const push = (b: Buffer) => {
    parts.push(b);
    length += b.length;
  };
  objects.forEach((body, i) => {
    offsets.push(length);
    push(Buffer.from(`${i + 1} 0 obj\n${body}\nendobj\n`, 'latin1'));
  });
  offsets.push(length);
  push(Buffer.from(`4 0 obj\n<< /Length ${stream.length} /Filter /FlateDecode >>\nstream\n`, 'latin1'));
  push(stream);
  push(Buffer.from('\nendstream\nendobj\n', 'latin1'));
  const xref = length;
  const entries = offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('');
  push(
    Buffer.from(
      `xref\n0 5\n0000000000 65535 f \n${entries}trailer\n<< /Size 5 /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`,
      'latin1',
    ),
  );
  return Buffer.concat(parts);
}

/** An empty final deflate block (no adler32 follows: readers that check it stop at the end anyway). */
function finalBlock(): Buffer {
  return Buffer.from([0x03, 0x00]);
}
