import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import chromium from '@sparticuz/chromium';
import { type Browser, chromium as playwright } from 'playwright-core';

export const SCREENSHOT_DIR = join(process.cwd(), 'test-results', 'browser');

/** Flags in @sparticuz/chromium's list (made for Lambda) that weaken what a page may reach. */
const WEAKENING = new Set([
  '--disable-web-security', // turns CORS and the same-origin policy off
  '--disable-site-isolation-trials',
  '--allow-running-insecure-content',
  '--enable-features=SharedArrayBuffer', // SharedArrayBuffer without cross-origin isolation
  '--single-process', // no process per site, so no site isolation
]);
const WEAKENING_FEATURES = new Set(['IsolateOrigins', 'site-per-process']);

/** `args` without the flags that would let a test pass where a user's browser fails. */
export function enforcingArgs(args: readonly string[]): string[] {
  return args.flatMap((arg) => {
    if (WEAKENING.has(arg)) return [];
    if (!arg.startsWith('--disable-features=')) return [arg];
    const kept = arg
      .slice('--disable-features='.length)
      .split(',')
      .filter((feature) => !WEAKENING_FEATURES.has(feature));
    return kept.length > 0 ? [`--disable-features=${kept.join(',')}`] : [];
  });
}

/**
 * Chromium for browser tests, with no download: `CHROMIUM_PATH` (e.g. Debian's
 * /usr/bin/chromium) or the binary that ships inside @sparticuz/chromium (unpacked to /tmp
 * on first use, ~1.6 s). One browser per test file. It enforces CORS, the same-origin policy
 * and site isolation as a user's browser does (see `enforcingArgs`).
 */
export async function launchBrowser(): Promise<Browser> {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  const quiet = [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
    '--disable-quic',
    '--disable-dev-shm-usage',
  ];
  const executablePath = process.env.CHROMIUM_PATH || (await chromium.executablePath());
  const args = process.env.CHROMIUM_PATH ? quiet : [...new Set([...enforcingArgs(chromium.args), ...quiet])];
  return playwright.launch({ executablePath, args, headless: true });
}

export const screenshotPath = (name: string) => join(SCREENSHOT_DIR, `${name}.png`);
