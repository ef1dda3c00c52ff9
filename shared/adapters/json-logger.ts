import type { Logger } from '../ports/logger.js';

/** One JSON line per entry on stdout/stderr: what CloudWatch Logs Insights queries best. */
export function createJsonLogger(
  base: Record<string, unknown> = {},
  level: 'info' | 'warn' | 'error' = 'info',
): Logger {
  const rank = { info: 0, warn: 1, error: 2 } as const;
  const write = (lvl: keyof typeof rank, message: string, fields?: Record<string, unknown>) => {
    if (rank[lvl] < rank[level]) return;
    const line = JSON.stringify({ level: lvl, time: new Date().toISOString(), message, ...base, ...fields });
    (lvl === 'error' ? process.stderr : process.stdout).write(`${line}\n`);
  };
  return {
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
  };
}
