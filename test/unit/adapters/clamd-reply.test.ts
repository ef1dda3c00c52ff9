import { describe, expect, it } from 'vitest';
import { parseClamdReply } from '../../../shared/adapters/clamd-malware-scanner.js';

// clamd's INSTREAM answers, as clamd 1.4 writes them (z-commands end in NUL): only OK is clean.

describe('parseClamdReply', () => {
  it.each([
    ['stream: OK\0', { kind: 'clean' }],
    [
      'stream: Eicar-Test-Signature.UNOFFICIAL FOUND\0',
      { kind: 'infected', signature: 'Eicar-Test-Signature.UNOFFICIAL' },
    ],
    ['stream: Win.Test.EICAR_HDB-1 FOUND\0', { kind: 'infected', signature: 'Win.Test.EICAR_HDB-1' }],
    [
      'INSTREAM size limit exceeded. ERROR\0',
      { kind: 'unscannable', reason: 'INSTREAM size limit exceeded. ERROR' },
    ],
    ["stream: Can't allocate memory ERROR\0", { kind: 'unscannable', reason: "Can't allocate memory ERROR" }],
  ])('%j → %j', (reply, verdict) => {
    expect(parseClamdReply(reply)).toEqual(verdict);
  });

  it.each(['', 'PONG\0', 'stream: maybe\0', 'UNKNOWN COMMAND\0'])(
    '%j is no answer at all: it throws',
    (reply) => {
      expect(() => parseClamdReply(reply)).toThrow(/unexpected/);
    },
  );
});
