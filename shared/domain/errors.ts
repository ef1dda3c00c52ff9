/**
 * The one error catalogue. Every failure a client may see is a `StowageError` with a stable
 * `code`; the HTTP adapter maps codes to statuses (API.md section 0) and nothing else leaks.
 */
export const ERROR_STATUS = {
  VALIDATION_FAILED: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  GONE: 410,
  FILE_TOO_LARGE: 413,
  MIME_TYPE_NOT_ALLOWED: 415,
  PREVIEW_NOT_SUPPORTED: 415,
  PREVIEW_FAILED: 422,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  QUOTA_EXCEEDED: 507,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export class StowageError extends Error {
  override readonly name = 'StowageError';
  readonly status: number;
  /** Whether the message may reach a client: every code but INTERNAL, whose cause stays inside. */
  readonly expose: boolean;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.status = ERROR_STATUS[code];
    this.expose = code !== 'INTERNAL';
  }
}

export const isStowageError = (e: unknown): e is StowageError => e instanceof StowageError;

export const validationFailed = (message: string, details?: unknown) =>
  new StowageError('VALIDATION_FAILED', message, details);
export const unauthenticated = (message = 'A valid bearer token is required.') =>
  new StowageError('UNAUTHENTICATED', message);
export const forbidden = (message = 'You are not allowed to do this.') =>
  new StowageError('FORBIDDEN', message);
export const notFound = (what: string) => new StowageError('NOT_FOUND', `${what} was not found.`);
export const conflict = (message: string, details?: unknown) =>
  new StowageError('CONFLICT', message, details);
export const gone = (message: string) => new StowageError('GONE', message);
export const fileTooLarge = (size: number, maxFileSize: number) =>
  new StowageError(
    'FILE_TOO_LARGE',
    `The file is ${size} bytes; this bucket accepts at most ${maxFileSize}.`,
    {
      size,
      maxFileSize,
    },
  );
export const mimeTypeNotAllowed = (mimeType: string, allowedMimeTypes: readonly string[]) =>
  new StowageError('MIME_TYPE_NOT_ALLOWED', `Files of type ${mimeType} are not allowed in this bucket.`, {
    mimeType,
    allowedMimeTypes,
  });
export const quotaExceeded = (details: {
  limitBytes: number;
  committedBytes: number;
  requestedBytes: number;
}) => new StowageError('QUOTA_EXCEEDED', 'The tenant storage quota cannot hold this upload.', details);
export const previewNotSupported = (mimeType: string) =>
  new StowageError('PREVIEW_NOT_SUPPORTED', `Files of type ${mimeType} have no preview.`, { mimeType });
export const previewFailed = (reason: string) =>
  new StowageError('PREVIEW_FAILED', `The preview could not be rendered (${reason}).`, { reason });
