import { createCanvas, loadImage } from '@napi-rs/canvas';
import { degrees, PDFDocument, rgb, StandardFonts } from 'pdf-lib';

/** Real PDFs and images to preview, made here, and a PNG decoder to look at what came out. */

const LETTER: [number, number] = [612, 792];

/**
 * A letter-size document of `pages` pages. Page 1 carries a black block on its left half (and
 * its number); every later page a block on its right half, so a preview shows which page it is.
 */
export async function pagesPdf(pages: number, opts: { rotate?: number } = {}): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  for (let n = 1; n <= pages; n++) {
    const page = doc.addPage(LETTER);
    if (opts.rotate) page.setRotation(degrees(opts.rotate));
    page.drawRectangle({ x: n === 1 ? 36 : 330, y: 400, width: 246, height: 300, color: rgb(0, 0, 0) });
    page.drawText(`Page ${n}`, { x: 36, y: 100, size: 28, font, color: rgb(0, 0, 0) });
  }
  return doc.save();
}

/** One page full of small shapes: slow enough to draw that concurrent asks overlap. */
export async function heavyPdf(shapes = 6_000): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  const page = doc.addPage(LETTER);
  for (let i = 0; i < shapes; i++) {
    const x = (i * 37) % 600;
    const y = (i * 53) % 780;
    page.drawCircle({ x, y, size: 3 + (i % 5), color: rgb((i % 7) / 7, (i % 3) / 3, 0.2), opacity: 0.5 });
  }
  return doc.save({ useObjectStreams: false });
}

/** A PDF assembled object by object, for documents pdf-lib will not write. */
function handWrittenPdf(objects: string[], trailerExtra = ''): Uint8Array {
  let out = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(out.length);
    out += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = out.length;
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const o of offsets) out += `${String(o).padStart(10, '0')} 00000 n \n`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R ${trailerExtra}>>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

const textPage = (text: string) => {
  const content = `BT /F1 24 Tf 20 100 Td (${text}) Tj ET`;
  return [
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${content.length} >>\nstream\n${content}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
};

/**
 * A document encrypted with a user password (the standard security handler, RC4 40-bit): its
 * trailer names an /Encrypt dictionary whose /U entry no empty password matches. pdf-lib refuses
 * to open it and pdf.js asks for the password.
 */
export function encryptedPdf(): Uint8Array {
  const hex = (seed: number) =>
    Array.from({ length: 32 }, (_, i) => ((i * 29 + seed * 7) & 0xff).toString(16).padStart(2, '0')).join('');
  return handWrittenPdf(
    [
      '<< /Type /Catalog /Pages 2 0 R >>',
      '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
      ...textPage('Secret'),
      `<< /Filter /Standard /V 1 /R 2 /O <${hex(1)}> /U <${hex(2)}> /P -4 >>`,
    ],
    `/Encrypt 6 0 R /ID [<${hex(3).slice(0, 32)}> <${hex(3).slice(0, 32)}>] `,
  );
}

/** A well-formed document whose page tree is empty. */
export function zeroPagePdf(): Uint8Array {
  return handWrittenPdf(['<< /Type /Catalog /Pages 2 0 R >>', '<< /Type /Pages /Kids [] /Count 0 >>']);
}

/** A PDF header and then nothing a PDF reader can use (it still sniffs as application/pdf). */
export function corruptPdf(length = 4096): Uint8Array {
  const bytes = Buffer.alloc(length);
  Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n', 'latin1').copy(bytes);
  for (let i = 16; i < length; i++) bytes[i] = (i * 7919 + 13) & 0xff;
  return bytes;
}

export type ImageFormat = 'png' | 'jpeg' | 'gif' | 'webp';

/** A white image with a black square in its top-left quarter. */
export async function squareImage(format: ImageFormat, width: number, height: number): Promise<Uint8Array> {
  const canvas = createCanvas(width, height);
  const context = canvas.getContext('2d');
  context.fillStyle = '#ffffff';
  context.fillRect(0, 0, width, height);
  context.fillStyle = '#000000';
  context.fillRect(0, 0, Math.ceil(width / 2), Math.ceil(height / 2));
  const encoded =
    format === 'png'
      ? await canvas.encode('png')
      : format === 'gif'
        ? await canvas.encode('gif')
        : await canvas.encode(format, 90);
  return new Uint8Array(encoded);
}

export interface DecodedPng {
  width: number;
  height: number;
  /** RGBA, row by row. */
  pixels: Uint8ClampedArray;
}

/** Decodes a PNG (or any image) into pixels. */
export async function decodeImage(bytes: Uint8Array): Promise<DecodedPng> {
  const image = await loadImage(Buffer.from(bytes));
  const canvas = createCanvas(image.width, image.height);
  const context = canvas.getContext('2d');
  context.drawImage(image, 0, 0);
  const data = context.getImageData(0, 0, image.width, image.height);
  return { width: image.width, height: image.height, pixels: data.data };
}

/**
 * The share of dark, opaque pixels in a region given in fractions of the image
 * (`{ x0: 0, y0: 0, x1: 0.5, y1: 0.5 }` is the top-left quarter).
 */
export function darkShare(
  png: DecodedPng,
  region: { x0: number; y0: number; x1: number; y1: number } = { x0: 0, y0: 0, x1: 1, y1: 1 },
): number {
  const [xa, xb] = [Math.floor(region.x0 * png.width), Math.ceil(region.x1 * png.width)];
  const [ya, yb] = [Math.floor(region.y0 * png.height), Math.ceil(region.y1 * png.height)];
  let dark = 0;
  let total = 0;
  for (let y = ya; y < yb; y++)
    for (let x = xa; x < xb; x++) {
      const at = (y * png.width + x) * 4;
      const [r, g, b, a] = [png.pixels[at], png.pixels[at + 1], png.pixels[at + 2], png.pixels[at + 3]];
      total += 1;
      if ((a as number) > 128 && (r as number) + (g as number) + (b as number) < 3 * 80) dark += 1;
    }
  return total === 0 ? 0 : dark / total;
}
