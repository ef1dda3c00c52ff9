import type { StorageCall } from '../../shared/adapters/storage-calls.js';

/** Every DynamoDB and S3 call the local stack's clients send, kept while a count is open. */
export interface StorageCallLog {
  observe(call: StorageCall): void;
  /** Runs `work`, waits for `settle` (the background work it caused), and counts what both sent. */
  count<T>(
    work: () => Promise<T>,
    settle?: () => Promise<unknown>,
  ): Promise<{ result: T; calls: StorageCall[] }>;
}

export function createStorageCallLog(): StorageCallLog {
  let open: StorageCall[] | null = null;
  return {
    observe(call) {
      open?.push(call);
    },
    async count(work, settle) {
      if (open) throw new Error('StorageCallLog counts one operation at a time.');
      const calls: StorageCall[] = [];
      open = calls;
      try {
        const result = await work();
        await settle?.();
        return { result, calls };
      } finally {
        open = null;
      }
    },
  };
}
