import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import chromium from '@sparticuz/chromium';
import { type Browser, chromium as playwright } from 'playwright-core';

export const SCREENSHOT_DIR = join(process.cwd(), 'test-results', 'browser');

/**
 * Chromium for browser tests, with no download: `CHROMIUM_PATH` (e.g. Debian's
 * /usr/bin/chromium) or the binary that ships inside @sparticuz/chromium (unpacked to /tmp
 * on first use, ~1.6 s). One browser per test file.
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
  const args = process.env.CHROMIUM_PATH ? quiet : [...new Set([...chromium.args, ...quiet])];
  return playwright.launch({ executablePath, args, headless: true });
}

export const screenshotPath = (name: string) => join(SCREENSHOT_DIR, `${name}.png`);
