import { request } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ObjectStore } from '../../shared/ports/object-store.js';
import type { PdfBytes } from './pdf-bytes.js';

/**
 * Sends a file's bytes as the upload instructions of `initiate` say, the way a client would:
 * one presigned PUT, or every part to its presigned URL. A multipart upload is then completed
 * on the store directly (the API's `complete` would also validate, which the bench times itself).
 */
export async function sendUpload(opts: {
  upload: any;
  objectKey: string;
  size: number;
  bytes: PdfBytes;
  store: ObjectStore;
}): Promise<void> {
  const { upload, size, bytes } = opts;
  if (upload.method === 'PUT') {
    await put(upload.url, upload.headers, size, bytes.range(0, size));
    return;
  }
  if (upload.method !== 'MULTIPART') throw new Error(`sendUpload does not do ${upload.method}.`);
  const parts = [];
  for (const part of upload.parts as { partNumber: number; url: string }[]) {
    const start = (part.partNumber - 1) * upload.partSize;
    const end = Math.min(start + upload.partSize, size);
    const etag = await put(part.url, {}, end - start, bytes.range(start, end));
    parts.push({ partNumber: part.partNumber, etag });
  }
  await opts.store.completeMultipartUpload({ key: opts.objectKey, uploadId: upload.uploadId, parts });
}

/** A streamed PUT with an exact Content-Length (which the presigned URL may sign); returns the ETag. */
async function put(
  url: string,
  headers: Record<string, string>,
  length: number,
  body: Iterable<Uint8Array>,
): Promise<string> {
  const req = request(url, { method: 'PUT', headers: { ...headers, 'content-length': String(length) } });
  const answered = new Promise<{ status: number; etag: string; text: string }>((resolve, reject) => {
    req.once('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.once('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          etag: String(res.headers.etag ?? ''),
          text: Buffer.concat(chunks).toString('utf8'),
        }),
      );
      res.once('error', reject);
    });
    req.once('error', reject);
  });
  await pipeline(Readable.from(body), req);
  const { status, etag, text } = await answered;
  if (status !== 200) throw new Error(`PUT to storage answered ${status}: ${text.slice(0, 300)}`);
  return etag;
}
