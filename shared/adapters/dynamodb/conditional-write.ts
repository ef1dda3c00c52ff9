import { cancellationReasons, conditionFailedAt, isConditionalCheckFailed } from './sdk-errors.js';
import type { TableContext } from './table-context.js';
import { transactWrite } from './transact-write.js';

/**
 * A single conditional write, as the ports' transitions answer it: true when it was applied,
 * false when its condition failed (another writer got there first); any other error is thrown.
 */
export async function writeApplied(write: Promise<unknown>): Promise<boolean> {
  try {
    await write;
    return true;
  } catch (error) {
    if (isConditionalCheckFailed(error)) return false;
    throw error;
  }
}

/** The same for a transaction: false when the condition of the action at `decisive` failed. */
export async function transactionApplied(
  ctx: TableContext,
  items: Parameters<typeof transactWrite>[1],
  decisive: number,
): Promise<boolean> {
  try {
    await transactWrite(ctx, items);
    return true;
  } catch (error) {
    const reasons = cancellationReasons(error);
    if (reasons && conditionFailedAt(reasons, decisive)) return false;
    throw error;
  }
}
