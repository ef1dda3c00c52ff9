import { readFile } from 'node:fs/promises';
import { createPdfjsCanvasPreviewRenderer } from '../../shared/adapters/preview/pdfjs-canvas-preview-renderer.js';

/** One way to draw page 1 of a PDF as an 800 px wide PNG. */
export interface PdfEngine {
  label: string;
  render(bytes: Uint8Array): Promise<Uint8Array>;
}

export const WIDTH = 800;
export const PDFJS = 'pdf.js on @napi-rs/canvas (the renderer now)';
export const PDFIUM = 'PDFium, WASM (@hyzyla/pdfium)';

/** The production renderer, in process (no child isolation: the engine alone is measured). */
export function pdfjsEngine(): PdfEngine {
  const renderer = createPdfjsCanvasPreviewRenderer({ concurrency: 1 });
  return {
    label: PDFJS,
    render: async (bytes) =>
      (await renderer.render({ bytes, mimeType: 'application/pdf', width: WIDTH })).png,
  };
}

/**
 * PDFium compiled to WASM: the crop box of page 1 at 800 px, annotations and form fields drawn
 * (as pdf.js and pdftoppm draw them), RGBA encoded to PNG by sharp.
 */
export async function pdfiumEngine(): Promise<PdfEngine> {
  const [{ PDFiumLibrary }, { default: sharp }] = await Promise.all([
    import('@hyzyla/pdfium'),
    import('sharp'),
  ]);
  const library = await PDFiumLibrary.init();
  return {
    label: PDFIUM,
    async render(bytes) {
      const document = await library.loadDocument(bytes);
      try {
        const page = document.getPage(0);
        const { originalWidth } = page.getOriginalSize();
        const image = await page.render({
          scale: WIDTH / originalWidth,
          renderFormFields: true,
          render: ({ data, width, height }) =>
            sharp(data, { raw: { width, height, channels: 4 } })
              .flatten({ background: '#ffffff' })
              .png()
              .toBuffer()
              .then((png) => new Uint8Array(png)),
        });
        return image.data;
      } finally {
        document.destroy();
      }
    },
  };
}

export const pdfEngine = (name: 'pdfjs' | 'pdfium') => (name === 'pdfjs' ? pdfjsEngine() : pdfiumEngine());

export const readPdf = async (path: string) => new Uint8Array(await readFile(path));
