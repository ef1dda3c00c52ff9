import { validationFailed } from './errors.js';

/** Tenant ids and every id the service issues or accepts in a path: API.md section 1. */
export const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
/** A user id (`sub`): 1..128 printable ASCII characters. Keys encode it, never trust it. */
export const USER_ID_PATTERN = /^[\x20-\x7e]{1,128}$/;

export const isId = (value: unknown): value is string => typeof value === 'string' && ID_PATTERN.test(value);
export const isUserId = (value: unknown): value is string =>
  typeof value === 'string' && USER_ID_PATTERN.test(value);

export function assertId(value: unknown, what: string): string {
  if (!isId(value)) throw validationFailed(`${what} must be 1 to 64 characters of A-Z, a-z, 0-9, _ or -.`);
  return value;
}

/** The built-in provider every tenant has: the deployment's own storage. */
export const DEFAULT_PROVIDER_ID = 'default';
