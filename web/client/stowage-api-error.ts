/**
 * A non-2xx answer of the API, with its stable `code` (API.md section 0). Network failures
 * have status 0 and code `NETWORK_ERROR`; storage refusing the bytes has code
 * `STORAGE_REJECTED` and the storage's status.
 */
export class StowageApiError extends Error {
  override readonly name = 'StowageApiError';
  readonly status: number;
  readonly code: string;
  readonly details: unknown;

  constructor(opts: { status: number; code: string; message: string; details?: unknown; cause?: unknown }) {
    super(opts.message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.status = opts.status;
    this.code = opts.code;
    this.details = opts.details;
  }
}

export const isStowageApiError = (error: unknown): error is StowageApiError =>
  error instanceof StowageApiError;

/** Builds the error from a response body, whatever shape it has. */
export function apiErrorFrom(status: number, text: string): StowageApiError {
  try {
    const parsed = JSON.parse(text) as { error?: { code?: unknown; message?: unknown; details?: unknown } };
    const e = parsed.error;
    if (e && typeof e.code === 'string')
      return new StowageApiError({
        status,
        code: e.code,
        message: typeof e.message === 'string' ? e.message : e.code,
        details: e.details,
      });
  } catch {
    // not JSON: fall through
  }
  return new StowageApiError({
    status,
    code: status >= 500 ? 'INTERNAL' : 'HTTP_ERROR',
    message: `HTTP ${status}`,
  });
}
