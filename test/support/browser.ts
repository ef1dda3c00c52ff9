import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import chromium from '@sparticuz/chromium';
import { type Browser, chromium as playwright } from 'playwright-core';
import { launchArgs } from '../../shared/adapters/preview/chromium-args.js';

export { enforcingArgs } from '../../shared/adapters/preview/chromium-args.js';

export const SCREENSHOT_DIR = join(process.cwd(), 'test-results', 'browser');

/**
 * Chromium for browser tests, with no download: `CHROMIUM_PATH` (e.g. Debian's
 * /usr/bin/chromium) or the binary that ships inside @sparticuz/chromium (unpacked to /tmp
 * on first use, ~1.6 s). One browser per test file. It enforces CORS, the same-origin policy
 * and site isolation as a user's browser does (see `enforcingArgs`).
 */
export async function launchBrowser(): Promise<Browser> {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  const executablePath = process.env.CHROMIUM_PATH || (await chromium.executablePath());
  const args = launchArgs(process.env.CHROMIUM_PATH ? null : chromium.args);
  return playwright.launch({ executablePath, args, headless: true });
}

export const screenshotPath = (name: string) => join(SCREENSHOT_DIR, `${name}.png`);
