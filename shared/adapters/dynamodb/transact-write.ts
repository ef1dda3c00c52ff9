import { TransactWriteCommand, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { backoff } from './backoff.js';
import { cancellationReasons, isTransactionConflict } from './sdk-errors.js';
import type { TableContext } from './table-context.js';

export type TransactItems = NonNullable<TransactWriteCommandInput['TransactItems']>;
export type TransactUpdate = NonNullable<TransactItems[number]['Update']>;
export type TransactPut = NonNullable<TransactItems[number]['Put']>;
export type TransactDelete = NonNullable<TransactItems[number]['Delete']>;

const MAX_ATTEMPTS = 10;

/**
 * Runs one transaction. DynamoDB cancels a transaction that touches an item another one is
 * writing (`TransactionConflict`, common on the shared quota item), and the SDK does not
 * retry that, so it is retried here with jittered backoff. Any other cancellation (a failed
 * condition) is thrown for the caller to translate.
 */
export async function transactWrite(ctx: TableContext, items: TransactItems): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await ctx.client.send(new TransactWriteCommand({ TransactItems: items }));
      return;
    } catch (error) {
      const reasons = cancellationReasons(error);
      if (!reasons || !isTransactionConflict(reasons) || attempt >= MAX_ATTEMPTS) throw error;
      await backoff(attempt);
    }
  }
}
