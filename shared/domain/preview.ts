import { createHash } from 'node:crypto';
import type { FileRecord } from './model.js';

/**
 * Preview rules without I/O: which variant a file's preview is cached under, what a cache
 * entry holds, and the tenant metrics computed from the counters.
 */

/**
 * Bumped when the renderer's output changes (another library, width rule, background): every
 * variant key changes with it, so old previews are never served and age out of the cache.
 */
export const PREVIEW_RENDER_REVISION = 1;

/**
 * The variant a file's preview is cached under: its width and a digest of what describes the
 * content (type, size, sha256 when declared) and the renderer revision. The bytes behind a file
 * id never change through the API, and anything that could describe other bytes gives another
 * key, so a changed file or renderer never shows a stale preview.
 */
export function previewVariant(
  file: Pick<FileRecord, 'mimeType' | 'size' | 'sha256' | 'objectKey'>,
  width: number,
): string {
  const version = createHash('sha256')
    .update(
      JSON.stringify([
        PREVIEW_RENDER_REVISION,
        file.objectKey,
        file.mimeType,
        file.size,
        file.sha256 ?? null,
      ]),
    )
    .digest('hex')
    .slice(0, 16);
  return `w${width}-${version}`;
}

/**
 * `PREVIEW_CACHE_MAX_AGE` as the whole days of an S3 lifecycle expiration rule (API.md section 9:
 * rounded up, at least one day).
 */
export const previewLifecycleDays = (maxAgeMs: number) => Math.max(1, Math.ceil(maxAgeMs / 86_400_000));

export type PreviewEntryStatus = 'ready' | 'failed';

/** One cached preview (or the memory of a failed render) of one variant of one file. */
export interface PreviewEntry {
  tenantId: string;
  fileId: string;
  variant: string;
  status: PreviewEntryStatus;
  /** Why the renderer could not draw the file (status failed). */
  reason: string | null;
  /** The PNG's bytes, width and height (0 when failed). */
  size: number;
  width: number;
  height: number;
  objectKey: string;
  createdAt: string;
  lastAccessAt: string;
  renderMs: number | null;
  /** Unique per write: removals and replacements are conditional on it. */
  renderId: string;
}

/** The per-tenant counters, moved by atomic adds. */
export interface PreviewCounters {
  hits: number;
  misses: number;
  errors: number;
  renders: number;
  totalRenderMs: number;
  /** Ready previews in the cache and their bytes. */
  objects: number;
  bytes: number;
}

export const ZERO_PREVIEW_COUNTERS: PreviewCounters = {
  hits: 0,
  misses: 0,
  errors: 0,
  renders: 0,
  totalRenderMs: 0,
  objects: 0,
  bytes: 0,
};

/** API.md section 9: `GET /v1/previews/metrics`. */
export interface PreviewMetrics {
  hits: number;
  misses: number;
  errors: number;
  renders: number;
  hitRatio: number;
  objects: number;
  bytes: number;
  avgRenderMs: number;
}

export function previewMetrics(c: PreviewCounters): PreviewMetrics {
  const asked = c.hits + c.misses;
  return {
    hits: c.hits,
    misses: c.misses,
    errors: c.errors,
    renders: c.renders,
    hitRatio: asked === 0 ? 0 : round(c.hits / asked, 4),
    // Counters can only run below zero through a bug; never show negative sizes.
    objects: Math.max(0, c.objects),
    bytes: Math.max(0, c.bytes),
    avgRenderMs: c.renders === 0 ? 0 : round(c.totalRenderMs / c.renders, 1),
  };
}

const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** How many first bytes `readPngHeader` needs: the signature and the IHDR chunk's size fields. */
export const PNG_HEADER_BYTES = 24;

/**
 * Width and height from a PNG's signature and IHDR chunk, or null when the bytes are not a
 * PNG. Checks a cached object without reading all of it.
 */
export function readPngHeader(bytes: Uint8Array): { width: number; height: number } | null {
  if (bytes.length < PNG_HEADER_BYTES) return null;
  if (!PNG_SIGNATURE.every((b, i) => bytes[i] === b)) return null;
  const ihdr = String.fromCharCode(...bytes.subarray(12, 16));
  if (ihdr !== 'IHDR') return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const width = view.getUint32(16);
  const height = view.getUint32(20);
  return width > 0 && height > 0 ? { width, height } : null;
}
