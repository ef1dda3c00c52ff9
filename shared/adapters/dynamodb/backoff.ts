const BASE_DELAY_MS = 20;
const MAX_DELAY_MS = 1_000;

/** Waits before retry number `attempt` (1-based); full jitter spreads out writers that collided. */
export const backoff = (attempt: number): Promise<void> =>
  new Promise((done) =>
    setTimeout(done, Math.random() * Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** (attempt - 1))),
  );
