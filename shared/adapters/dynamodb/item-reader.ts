import type { Item } from './table-context.js';

/**
 * Typed reads of a raw item for the mappers. A wrong or missing attribute means the table
 * holds something this code did not write, so it throws rather than guess.
 */
export function itemReader(item: Item) {
  const fail = (name: string, expected: string): never => {
    throw new TypeError(`Item ${String(item.PK)}/${String(item.SK)}: ${name} is not ${expected}.`);
  };
  const string = (name: string): string => {
    const value = item[name];
    return typeof value === 'string' ? value : fail(name, 'a string');
  };
  const number = (name: string): number => {
    // Number() also reads the NumberValue wrapper of a client built with wrapNumbers.
    const value = item[name];
    const parsed = typeof value === 'number' ? value : value == null ? Number.NaN : Number(value);
    return Number.isFinite(parsed) ? parsed : fail(name, 'a number');
  };
  const isNull = (name: string) => item[name] === undefined || item[name] === null;
  return {
    string,
    number,
    stringOrNull: (name: string): string | null => (isNull(name) ? null : string(name)),
    numberOrNull: (name: string): number | null => (isNull(name) ? null : number(name)),
    boolean: (name: string): boolean => {
      const value = item[name];
      return typeof value === 'boolean' ? value : fail(name, 'a boolean');
    },
    /** A string set (absent when empty: DynamoDB stores no empty sets). */
    stringSet: (name: string): string[] => {
      const value = item[name];
      if (isNull(name)) return [];
      return value instanceof Set ? [...value].map(String) : fail(name, 'a string set');
    },
    map: (name: string): Record<string, unknown> => {
      const value = item[name];
      return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Set)
        ? (value as Record<string, unknown>)
        : fail(name, 'a map');
    },
    isNull,
  };
}
