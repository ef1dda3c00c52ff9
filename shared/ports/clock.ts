export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

export interface IdGenerator {
  /** A new time-sortable id (a ULID), matching the id rule of API.md section 1. */
  next(): string;
}
