import type { Logger } from '../../ports/logger.js';
import type { PreviewScheduler } from '../../ports/preview-scheduler.js';

export interface InProcessPreviewScheduler extends PreviewScheduler {
  /** What runs each scheduled render (the preview service's `renderAhead`), set once it exists. */
  connect(run: (tenantId: string, fileId: string) => Promise<void>): void;
  /** Resolves when everything scheduled so far has run. */
  idle(): Promise<void>;
  /** Drops what has not started; later schedules are ignored. */
  stop(): void;
}

/**
 * Ahead-of-time rendering inside this process, for the local stack: `schedule` returns at
 * once and the renders run one after another in the background, so a burst of uploads never
 * competes with requests for more than one render at a time. In AWS the same port is an
 * asynchronous invocation of the render function (or a queue message) instead, since a Lambda
 * is frozen once it has answered.
 */
export function createInProcessPreviewScheduler(opts: {
  logger: Logger;
  /** Renders run at once. @default 1 */
  concurrency?: number;
  /** Waiting renders beyond this are dropped (they are rendered on demand instead). @default 1000 */
  maxQueued?: number;
  /** What the jobs are, in log lines (the same queue runs checksum checks). @default 'preview' */
  job?: string;
}): InProcessPreviewScheduler {
  const job = opts.job ?? 'preview';
  const concurrency = opts.concurrency ?? 1;
  const maxQueued = opts.maxQueued ?? 1000;
  const queue: [string, string][] = [];
  const waiters: (() => void)[] = [];
  let running = 0;
  let stopped = false;
  let run: ((tenantId: string, fileId: string) => Promise<void>) | null = null;

  const settleIdle = () => {
    if (running === 0 && queue.length === 0) for (const done of waiters.splice(0)) done();
  };
  const pump = () => {
    while (run && !stopped && running < concurrency && queue.length > 0) {
      const [tenantId, fileId] = queue.shift() as [string, string];
      running += 1;
      run(tenantId, fileId)
        .catch((error) =>
          opts.logger.error(`scheduled ${job} failed`, { tenantId, fileId, error: String(error) }),
        )
        .finally(() => {
          running -= 1;
          pump();
          settleIdle();
        });
    }
  };

  return {
    schedule(tenantId, fileId) {
      if (stopped) return;
      if (queue.length >= maxQueued) {
        opts.logger.warn(`${job} queue full; dropped until asked again`, { tenantId, fileId });
        return;
      }
      queue.push([tenantId, fileId]);
      // After the caller's current step: scheduling never delays `complete` or an event.
      setImmediate(pump);
    },
    connect(target) {
      run = target;
      setImmediate(pump);
    },
    idle() {
      if (running === 0 && (queue.length === 0 || stopped || !run)) return Promise.resolve();
      return new Promise((done) => waiters.push(done));
    },
    stop() {
      stopped = true;
      queue.length = 0;
      settleIdle();
    },
  };
}
