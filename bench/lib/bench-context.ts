import type { LocalStack } from '../../local/stack.js';
import type { StorageCallLog } from './storage-call-log.js';

/** What every benchmark gets: the one local stack of this run. */
export interface BenchContext {
  stack: LocalStack;
  /** The stack's data directory (a fresh temporary one). */
  dataDir: string;
  /** Progress for the operator; goes to stderr so the tables stay clean. */
  progress(message: string): void;
  /** Counts the stack's DynamoDB and S3 calls during an operation. */
  storageCalls: StorageCallLog;
}
