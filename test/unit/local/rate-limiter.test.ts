import { describe, expect, it } from 'vitest';
import { createRateLimiter } from '../../../local/rate-limiter.js';

describe('the per-address token bucket', () => {
  it('lets a burst through, refuses the next with the wait, and refills at the rate', () => {
    // Prepare
    let now = 0;
    const limiter = createRateLimiter({ ratePerSecond: 2, burst: 3, now: () => now });
    // Act / Assess
    expect([1, 2, 3].map(() => limiter.take('a'))).toEqual([0, 0, 0]);
    expect(limiter.take('a')).toBe(1);
    expect(limiter.take('b')).toBe(0); // another address has its own bucket
    now = 500; // half a second: one token back
    expect(limiter.take('a')).toBe(0);
    expect(limiter.take('a')).toBe(1);
    now = 60_000; // never more than the burst, however long it waited
    expect([1, 2, 3, 4].map(() => limiter.take('a'))).toEqual([0, 0, 0, 1]);
  });

  it('remembers a bounded number of addresses, forgetting idle ones first', () => {
    let now = 0;
    const limiter = createRateLimiter({ ratePerSecond: 1, burst: 1, now: () => now, maxAddresses: 2 });
    expect(limiter.take('a')).toBe(0);
    expect(limiter.take('b')).toBe(0);
    expect(limiter.take('a')).toBe(1);
    now = 10; // both still empty: a third address evicts the oldest
    expect(limiter.take('c')).toBe(0);
    expect(limiter.take('b')).toBe(1);
  });

  it('fails fast on a rate or burst that cannot work', () => {
    expect(() => createRateLimiter({ ratePerSecond: 0, burst: 1 })).toThrow(/ratePerSecond/);
    expect(() => createRateLimiter({ ratePerSecond: 1, burst: 0 })).toThrow(/burst/);
  });
});
