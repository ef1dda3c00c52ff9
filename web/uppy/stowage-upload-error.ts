import type { Body, Meta, UppyFile } from '@uppy/core';
import { RestrictionError } from '@uppy/core';

/**
 * A file Stowage refused, at initiate (a 4xx such as `MIME_TYPE_NOT_ALLOWED`, `FILE_TOO_LARGE`,
 * `QUOTA_EXCEEDED`) or after the bytes arrived (the file settled `rejected`). An Uppy
 * restriction error, so the Dashboard and `restriction-failed` listeners treat it as the rule
 * it is, with Stowage's stable `code` kept.
 */
export class StowageRejectionError<M extends Meta, B extends Body> extends RestrictionError<M, B> {
  override readonly name = 'StowageRejectionError';
  readonly code: string;
  readonly status: number;
  /** The Stowage file id, when the service had created the file. */
  readonly stowageFileId: string | null;

  constructor(opts: {
    message: string;
    code: string;
    status: number;
    file: UppyFile<M, B>;
    stowageFileId?: string | null;
    cause?: unknown;
  }) {
    super(opts.message, { file: opts.file, isUserFacing: true });
    this.code = opts.code;
    this.status = opts.status;
    this.stowageFileId = opts.stowageFileId ?? null;
    if (opts.cause !== undefined) this.cause = opts.cause;
  }
}

/** Refusals of this file by the service's rules: sending it again cannot succeed. */
export const REJECTION_CODES: ReadonlySet<string> = new Set([
  'FILE_TOO_LARGE',
  'MIME_TYPE_NOT_ALLOWED',
  'QUOTA_EXCEEDED',
  'VALIDATION_FAILED',
  'FORBIDDEN',
]);
