/**
 * The flags Chromium runs with, for the preview renderer and the browser tests alike: quiet on a
 * closed network (PLATFORM.md), and never the flags of @sparticuz/chromium's list (made for
 * Lambda) that would weaken what a page may reach.
 */

/** Flags that keep Chromium quiet on a closed network. */
export const CHROMIUM_QUIET_ARGS: readonly string[] = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--disable-dev-shm-usage',
];

const WEAKENING = new Set([
  '--disable-web-security', // turns CORS and the same-origin policy off
  '--disable-site-isolation-trials',
  '--allow-running-insecure-content',
  '--enable-features=SharedArrayBuffer', // SharedArrayBuffer without cross-origin isolation
  '--single-process', // no process per site, so no site isolation
]);
const WEAKENING_FEATURES = new Set(['IsolateOrigins', 'site-per-process']);

/** `args` without the flags that would let a page reach more than in a user's browser. */
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

/** What to launch with: the quiet flags, plus @sparticuz/chromium's own with the weakening ones out. */
export const launchArgs = (bundled: readonly string[] | null): string[] =>
  bundled ? [...new Set([...enforcingArgs(bundled), ...CHROMIUM_QUIET_ARGS])] : [...CHROMIUM_QUIET_ARGS];
