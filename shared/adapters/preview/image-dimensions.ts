/**
 * Width and height from an image's header, read before anything is decoded, so a small file
 * that would decode to gigabytes of pixels (a decompression bomb) is refused cheaply. Null
 * when the header is not one of PNG, GIF, JPEG, WebP, BMP or ICO, or is cut short.
 */
export function imageDimensions(bytes: Uint8Array): { width: number; height: number } | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const ascii = (at: number, length: number) => String.fromCharCode(...bytes.subarray(at, at + length));
  if (bytes.length >= 24 && bytes[0] === 0x89 && ascii(1, 3) === 'PNG' && ascii(12, 4) === 'IHDR')
    return { width: view.getUint32(16), height: view.getUint32(20) };
  if (bytes.length >= 10 && (ascii(0, 6) === 'GIF87a' || ascii(0, 6) === 'GIF89a'))
    return gifDimensions(bytes, view);
  if (bytes.length >= 4 && bytes[0] === 0xff && bytes[1] === 0xd8) return jpegDimensions(bytes, view);
  if (bytes.length >= 30 && ascii(0, 4) === 'RIFF' && ascii(8, 4) === 'WEBP')
    return webpDimensions(bytes, view);
  // BMP: the info header's width and height (negative height: rows stored top-down).
  if (bytes.length >= 26 && ascii(0, 2) === 'BM')
    return { width: Math.abs(view.getInt32(18, true)), height: Math.abs(view.getInt32(22, true)) };
  // ICO and CUR: the largest entry of the directory (a stored 0 means 256).
  if (bytes.length >= 22 && view.getUint16(0, true) === 0 && [1, 2].includes(view.getUint16(2, true))) {
    const count = view.getUint16(4, true);
    let width = 0;
    let height = 0;
    for (let i = 0; i < count && 6 + 16 * i + 2 <= bytes.length; i++) {
      width = Math.max(width, (bytes[6 + 16 * i] as number) || 256);
      height = Math.max(height, (bytes[7 + 16 * i] as number) || 256);
    }
    return count > 0 ? { width, height } : { width: 0, height: 0 };
  }
  return null;
}

/** The first start-of-frame marker's size; markers before it are skipped by their lengths. */
function jpegDimensions(bytes: Uint8Array, view: DataView) {
  let at = 2;
  while (at + 9 < bytes.length) {
    if (bytes[at] !== 0xff) return null;
    const marker = bytes[at + 1] as number;
    if (marker === 0xff) {
      at += 1; // fill byte
      continue;
    }
    const isFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isFrame) return { width: view.getUint16(at + 7), height: view.getUint16(at + 5) };
    at += 2 + view.getUint16(at + 2);
  }
  return null;
}

function webpDimensions(bytes: Uint8Array, view: DataView) {
  const chunk = String.fromCharCode(...bytes.subarray(12, 16));
  if (chunk === 'VP8 ')
    return { width: view.getUint16(26, true) & 0x3fff, height: view.getUint16(28, true) & 0x3fff };
  if (chunk === 'VP8L') {
    const bits = view.getUint32(21, true);
    return { width: (bits & 0x3fff) + 1, height: ((bits >> 14) & 0x3fff) + 1 };
  }
  if (chunk === 'VP8X') {
    const u24 = (at: number) =>
      (bytes[at] as number) | ((bytes[at + 1] as number) << 8) | ((bytes[at + 2] as number) << 16);
    return { width: u24(24) + 1, height: u24(27) + 1 };
  }
  return null;
}

/**
 * A GIF's logical screen, grown to cover every frame whose descriptor lies in the bytes: the
 * canvas library crashes (SIGILL, SIGSEGV) on a zero-sized screen or frame, and a small screen
 * can hide a frame of 65535 x 65535. A zero anywhere answers a size of zero.
 */
function gifDimensions(bytes: Uint8Array, view: DataView) {
  let width = view.getUint16(6, true);
  let height = view.getUint16(8, true);
  if (width === 0 || height === 0) return { width: 0, height: 0 };
  let at = 13;
  const flags = bytes[10] as number;
  if (flags & 0x80) at += 3 * 2 ** ((flags & 0x07) + 1);
  const skipSubBlocks = () => {
    while (at < bytes.length) {
      const size = bytes[at] as number;
      at += 1 + size;
      if (size === 0) return;
    }
  };
  while (at < bytes.length) {
    const block = bytes[at];
    if (block === 0x3b) break; // trailer
    if (block === 0x21) {
      at += 2; // introducer, label
      skipSubBlocks();
    } else if (block === 0x2c) {
      if (at + 10 > bytes.length) break;
      const right = view.getUint16(at + 1, true) + view.getUint16(at + 5, true);
      const bottom = view.getUint16(at + 3, true) + view.getUint16(at + 7, true);
      if (view.getUint16(at + 5, true) === 0 || view.getUint16(at + 7, true) === 0)
        return { width: 0, height: 0 };
      width = Math.max(width, right);
      height = Math.max(height, bottom);
      const local = bytes[at + 9] as number;
      at += 10;
      if (local & 0x80) at += 3 * 2 ** ((local & 0x07) + 1);
      at += 1; // LZW minimum code size
      skipSubBlocks();
    } else break;
  }
  return { width, height };
}
