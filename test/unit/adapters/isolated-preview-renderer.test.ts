import { readdirSync, readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { createIsolatedPreviewRenderer } from '../../../shared/adapters/preview/isolated-preview-renderer.js';
import { silentLogger } from '../../../shared/ports/logger.js';
import { PreviewFailedError } from '../../../shared/ports/preview-renderer.js';
import { flateBombPdf } from '../../support/flate-bomb.js';
import {
  darkShare,
  decodeImage,
  encryptedPdf,
  type ImageFormat,
  pagesPdf,
  squareImage,
} from '../../support/preview-samples.js';

const crashes: unknown[] = [];
const logger = {
  ...silentLogger,
  warn: (message: string, fields?: unknown) => void crashes.push({ message, fields }),
};
const renderer = createIsolatedPreviewRenderer({ logger, processes: 2 });
afterAll(() => renderer.close());

async function failure(work: Promise<unknown>): Promise<PreviewFailedError> {
  const error = await work.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PreviewFailedError);
  return error as PreviewFailedError;
}

/** Damage that crashes @napi-rs/canvas 0.1.100 inside `loadImage` (SIGSEGV) when drawn in-process. */
async function damaged(format: ImageFormat): Promise<Uint8Array[]> {
  const whole = Buffer.from(await squareImage(format, 64, 64));
  const scrambled = Buffer.from(whole);
  for (let i = 40; i < scrambled.length - 12; i++)
    scrambled[i] = (scrambled[i] as number) ^ ((i * 131) & 0xff);
  return [whole.subarray(0, 40), scrambled];
}

describe('the isolated renderer (child processes)', () => {
  it('draws PDFs and images like the in-process renderer', async () => {
    // Act: two at once, one per process
    const [page, image] = await Promise.all([
      renderer.render({ bytes: await pagesPdf(3), mimeType: 'application/pdf', width: 800 }),
      renderer.render({ bytes: await squareImage('jpeg', 1200, 900), mimeType: 'image/jpeg', width: 800 }),
    ]);
    // Assess
    expect(page).toMatchObject({ width: 800, height: 1035 });
    expect(darkShare(await decodeImage(page.png), { x0: 0.1, y0: 0.15, x1: 0.4, y1: 0.45 })).toBeGreaterThan(
      0.95,
    );
    expect(image).toMatchObject({ width: 800, height: 600 });
    expect(
      darkShare(await decodeImage(image.png), { x0: 0.05, y0: 0.05, x1: 0.45, y1: 0.45 }),
    ).toBeGreaterThan(0.9);
    expect(
      (await failure(renderer.render({ bytes: encryptedPdf(), mimeType: 'application/pdf', width: 800 })))
        .reason,
    ).toBe('encrypted');
  });

  it.each<[ImageFormat, string]>([
    ['png', 'image/png'],
    ['webp', 'image/webp'],
  ])(
    'fails %s files that crashed the canvas library, without losing the process, and keeps drawing',
    async (format, mimeType) => {
      crashes.length = 0;
      for (const bytes of await damaged(format)) {
        const error = await failure(renderer.render({ bytes, mimeType, width: 800 }));
        expect(error.reason).toBe('undecodable');
      }
      // libvips refuses them where @napi-rs/canvas died (SIGSEGV): no host was lost.
      expect(crashes).toEqual([]);
      const after = await renderer.render({
        bytes: await squareImage(format, 100, 50),
        mimeType,
        width: 800,
      });
      expect(after).toMatchObject({ width: 100, height: 50 });
    },
  );

  it('kills a render that outlasts the time limit, and the next one gets a fresh process', async () => {
    const hasty = createIsolatedPreviewRenderer({ logger: silentLogger, timeoutMs: 50 });
    try {
      const error = await failure(
        hasty.render({ bytes: await pagesPdf(1), mimeType: 'application/pdf', width: 800 }),
      );
      expect(error.reason).toBe('timeout');
    } finally {
      hasty.close();
    }
  });

  it('holds a render process under its memory ceiling: a 2 MB Flate bomb fails, the next file draws', async () => {
    // Prepare: a page whose content inflates to 2 GiB, and the default ceiling (768 MiB)
    const ceiling = 768 * 1024 * 1024;
    const bounded = createIsolatedPreviewRenderer({ logger: silentLogger, timeoutMs: 120_000 });
    const bomb = flateBombPdf(2 * 1024 ** 3);
    expect(bomb.length).toBeLessThan(3 * 1024 * 1024);
    // The children's own high-water mark of resident memory, read from outside while they work.
    let peak = 0;
    const watch = setInterval(() => {
      for (const pid of childPids()) peak = Math.max(peak, highWaterMark(pid));
    }, 5);
    try {
      // Act
      const error = await failure(bounded.render({ bytes: bomb, mimeType: 'application/pdf', width: 800 }));
      // Assess
      expect(error.reason).toBe('resource-limit');
      expect(peak).toBeGreaterThan(0);
      expect(peak).toBeLessThan(ceiling);
      const next = await bounded.render({
        bytes: await pagesPdf(1),
        mimeType: 'application/pdf',
        width: 800,
      });
      expect(next).toMatchObject({ width: 800 });
    } finally {
      clearInterval(watch);
      bounded.close();
    }
  }, 180_000);

  it('gives a file that passes the ceiling in a process warm from other files one try in a fresh process', async () => {
    // Prepare: a host that fails every file after its first (memory left behind), and PDFs always.
    const retries: unknown[] = [];
    const leaky = createIsolatedPreviewRenderer({
      logger: { ...silentLogger, info: (message: string) => void retries.push(message) },
      hostModule: new URL('../../support/leaky-render-host.mjs', import.meta.url).pathname,
    });
    try {
      const png = { bytes: new Uint8Array([1]), mimeType: 'image/png', width: 8 };
      // Act
      const bomb = await failure(leaky.render({ ...png, mimeType: 'application/pdf' }));
      const retriedAfterBomb = retries.length;
      const first = await leaky.render(png);
      const second = await leaky.render(png);
      // Assess: a file over the ceiling in a fresh process is judged at once, with no retry.
      expect([bomb.reason, retriedAfterBomb]).toEqual(['resource-limit', 0]);
      // The second file was drawn by a new process, as its first file.
      expect([first.png[0], second.png[0]]).toEqual([1, 1]);
      expect(Buffer.from(second.png.subarray(1)).toString()).not.toBe(
        Buffer.from(first.png.subarray(1)).toString(),
      );
      expect(retries).toEqual(['preview retried in a fresh render process']);
    } finally {
      leaky.close();
    }
  });

  it('replaces a process that holds most of its ceiling after a render, and blames the ceiling for a failure near it', async () => {
    // Prepare: a 1 GiB ceiling; the stand-in host keeps or takes as many MiB as the width says.
    const leaky = createIsolatedPreviewRenderer({
      logger: silentLogger,
      maxMemoryBytes: 1024 * 1024 * 1024,
      hostModule: new URL('../../support/leaky-render-host.mjs', import.meta.url).pathname,
    });
    const pidOf = (out: { png: Uint8Array }) => Buffer.from(out.png.subarray(1)).toString();
    const bytes = new Uint8Array([1]);
    try {
      // Act: a render that leaves 100 MiB behind keeps its process; one that leaves 760 does not.
      const light = await leaky.render({ bytes, mimeType: 'image/gif', width: 100 });
      const heavy = await leaky.render({ bytes, mimeType: 'image/gif', width: 760 });
      const next = await leaky.render({ bytes, mimeType: 'image/gif', width: 1 });
      // A "corrupt" answer given while 900 MiB of the 1,024 were taken, in a fresh process.
      const nearCeiling = await failure(leaky.render({ bytes, mimeType: 'image/webp', width: 900 }));
      const farFromIt = await failure(leaky.render({ bytes, mimeType: 'image/webp', width: 10 }));
      // Assess
      expect(pidOf(heavy)).toBe(pidOf(light));
      expect(pidOf(next)).not.toBe(pidOf(heavy));
      expect(next.png[0]).toBe(1);
      expect(nearCeiling.reason).toBe('resource-limit');
      expect(farFromIt.reason).toBe('corrupt');
    } finally {
      leaky.close();
    }
  });

  it('reads a source only once a render process is free: sources held stay at the process count', async () => {
    // Prepare: one process, five previews of 20 MB sources asked at once, as streams that note
    // when their bytes start to be read; a source counts as held from then until its render ends.
    const single = createIsolatedPreviewRenderer({ logger: silentLogger, processes: 1 });
    const page = await pagesPdf(1);
    const size = 20 * 1024 * 1024;
    let held = 0;
    let mostHeld = 0;
    const source = () => {
      let sent = 0;
      let counted = false;
      const stream = new Readable({
        read() {
          if (!counted) {
            counted = true;
            // Counted a turn later: the render before it hands its process over a few microtasks
            // before its caller hears it finished.
            setImmediate(() => {
              held += 1;
              mostHeld = Math.max(mostHeld, held);
            });
          }
          // The real page first, then padding after its end: a big file that still draws.
          const chunk =
            sent === 0 ? Buffer.from(page) : Buffer.alloc(Math.min(1024 * 1024, size - sent), 0x20);
          sent += chunk.length;
          this.push(chunk);
          if (sent >= size) this.push(null);
        },
      });
      const done = () => {
        if (counted) held -= 1;
      };
      return { stream, done };
    };
    try {
      // Act
      const results = await Promise.allSettled(
        Array.from({ length: 5 }, async () => {
          const { stream, done } = source();
          try {
            return await single.render({ bytes: stream, size, mimeType: 'application/pdf', width: 200 });
          } finally {
            done();
          }
        }),
      );
      // Assess: every one answered, and never more than one source was in memory at a time
      expect(results.map((r) => r.status)).toEqual(Array(5).fill('fulfilled'));
      expect(mostHeld).toBe(1);
    } finally {
      single.close();
    }
  }, 120_000);

  it('refuses a source above the cap without starting a process', async () => {
    const small = createIsolatedPreviewRenderer({
      logger: silentLogger,
      maxSourceBytes: 10,
      hostModule: '/nonexistent',
    });
    const error = await failure(
      small.render({ bytes: await pagesPdf(1), mimeType: 'application/pdf', width: 800 }),
    );
    expect(error.reason).toBe('too-large');
  });
});

describe('the render host environment', () => {
  it('carries no credentials or secrets into the process that parses untrusted files', async () => {
    const { hostEnvironment } = await import('../../../shared/adapters/preview/isolated-preview-renderer.js');
    const env = hostEnvironment({
      PATH: '/usr/bin',
      NODE_OPTIONS: '--enable-source-maps',
      AWS_ACCESS_KEY_ID: 'ASIA...',
      AWS_SECRET_ACCESS_KEY: 'secret',
      AWS_SESSION_TOKEN: 'token',
      AWS_CONTAINER_CREDENTIALS_FULL_URI: 'http://169.254.170.2/creds',
      S3_SECRET_ACCESS_KEY: 'S3RVER',
      DYNAMODB_SECRET_ACCESS_KEY: 'local',
      FILESTORE_SECRET_KEY: 'key',
      FILESTORE_DEV_JWT_SECRET: 'dev',
      TENANT_ROLE_ARN: 'arn:aws:iam::1:role/x',
    });
    expect(env).toEqual({ PATH: '/usr/bin', NODE_OPTIONS: '--enable-source-maps' });
  });
});

/** This process's child processes (the render hosts), from /proc. */
function childPids(): number[] {
  return readdirSync('/proc/self/task').flatMap((task) => {
    try {
      return readFileSync(`/proc/self/task/${task}/children`, 'utf8')
        .trim()
        .split(/\s+/)
        .filter(Boolean)
        .map(Number);
    } catch {
      return [];
    }
  });
}

/** A process's peak resident memory so far (VmHWM), 0 once it is gone. */
function highWaterMark(pid: number): number {
  try {
    return Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'latin1'))?.[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
}
