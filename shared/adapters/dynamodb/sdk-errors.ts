import type { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';

// Errors are recognised by name, not instanceof, so a second copy of the SDK in node_modules
// (a bundling accident) cannot turn a failed condition into a 500.

/**
 * Why each action of a cancelled transaction failed, in the order the actions were sent.
 * `item` is the item as it was (raw AttributeValues) where `ALL_OLD` was asked for and the
 * item existed.
 */
export interface CancellationReason {
  code: string;
  item: Record<string, RawAttribute> | undefined;
}

/** The wire format of an attribute; the document client does not unmarshall error payloads. */
export type RawAttribute = { S?: string; N?: string; NULL?: boolean; [other: string]: unknown };

export function cancellationReasons(error: unknown): CancellationReason[] | null {
  if (!isNamed<TransactionCanceledException>(error, 'TransactionCanceledException')) return null;
  return (error.CancellationReasons ?? []).map((reason) => ({
    code: reason.Code ?? 'None',
    item: reason.Item as Record<string, RawAttribute> | undefined,
  }));
}

/** True when this action of the cancelled transaction failed its condition. */
export const conditionFailedAt = (reasons: readonly CancellationReason[], index: number) =>
  reasons[index]?.code === 'ConditionalCheckFailed';

/** A transaction that lost a race with another one on the same item; worth retrying. */
export const isTransactionConflict = (reasons: readonly CancellationReason[]) =>
  reasons.some((reason) => reason.code === 'TransactionConflict');

export const isConditionalCheckFailed = (error: unknown): error is ConditionalCheckFailedException =>
  isNamed(error, 'ConditionalCheckFailedException');

/** A single write that collided with a transaction in flight on the same item. */
export const isTransactionConflictError = (error: unknown) => isNamed(error, 'TransactionConflictException');

const isNamed = <T extends Error>(error: unknown, name: string): error is T =>
  error instanceof Error && error.name === name;
