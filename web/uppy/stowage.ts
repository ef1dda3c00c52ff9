import {
  createStowageClient,
  type EntityRef,
  isStowageApiError,
  type ResumedUpload,
  type StowageClient,
  type StowageFile,
  type UploadOptions,
} from '@stowage/client';
import { BasePlugin, type Body, type Meta, type PluginOpts, type Uppy, type UppyFile } from '@uppy/core';
import { rejectionMessage } from './rejection-message.js';
import { REJECTION_CODES, StowageRejectionError } from './stowage-upload-error.js';

/** What Uppy's `upload-success` response body holds: the file as Stowage answered it. */
export type StowageBody = StowageFile & Body;

/** Kept in each Uppy file's state (Golden Retriever persists it): what to resume or abandon. */
export interface StowageFileState {
  bucketId: string;
  /** The File's date when the upload started: a restored Blob may have lost it. */
  lastModified: number;
  /** The pending Stowage file, once initiated. */
  fileId: string | null;
}

type PassedUploadOptions = Pick<
  UploadOptions,
  | 'multipartThreshold'
  | 'uploadMethod'
  | 'partChecksums'
  | 'concurrency'
  | 'partUrlWindow'
  | 'resume'
  | 'minPartSize'
  | 'attempts'
  | 'retryDelayMs'
  | 'sendBytes'
>;

export interface StowageOptions<M extends Meta, B extends Body> extends PluginOpts, PassedUploadOptions {
  /** The API's origin, e.g. `https://files.example.com` (no `/v1`). Not needed with `client`. */
  baseUrl?: string;
  /** The bearer token, asked for before every call. Not needed with `client`. */
  getToken?: () => string | Promise<string>;
  /** A client made with `createStowageClient`, instead of `baseUrl` and `getToken`. */
  client?: StowageClient;
  /** Where the files go: a bucket id, or one per file. */
  bucketId: string | ((file: UppyFile<M, B>) => string);
  /**
   * Entities every file is attached to (API.md section 8), or one list per file. A file's
   * `meta.references` (a list) and `meta.entityType` with `meta.entityId` are added to them.
   */
  references?: EntityRef[] | ((file: UppyFile<M, B>) => EntityRef[]);
  /** Meta fields copied into the Stowage file's `metadata` once it is active (string values only). */
  metadataFields?: string[];
  /** Files uploading at once. Default 3 (each multipart file sends `concurrency` parts at once). */
  limit?: number;
}

declare module '@uppy/core' {
  export interface UppyEventMap<M extends Meta, B extends Body> {
    /** An interrupted multipart upload was taken up again: only the missing parts are sent. */
    'stowage:resumed': (file: UppyFile<M, B> | undefined, resumed: ResumedUpload) => void;
  }
}

declare module '@uppy/core/utils' {
  export interface LocalUppyFile<M extends Meta, B extends Body> {
    stowage?: StowageFileState;
  }
  export interface RemoteUppyFile<M extends Meta, B extends Body> {
    stowage?: StowageFileState;
  }
}

type LocalFile<M extends Meta, B extends Body> = UppyFile<M, B> & { data: Blob; stowage?: StowageFileState };

const isEntityRef = (v: unknown): v is EntityRef =>
  typeof v === 'object' &&
  v !== null &&
  typeof (v as EntityRef).entityType === 'string' &&
  typeof (v as EntityRef).entityId === 'string';

/**
 * Uppy uploader that sends files through Stowage: the service says how (one PUT or POST, or
 * parts with URLs asked for as they go), the bytes go straight to storage, and an interrupted
 * multipart upload of the same file resumes with the parts storage lacks. Refusals come back
 * as restriction errors with Stowage's message; removing a file cancels it on the service.
 *
 * `uppy.use(Stowage, { baseUrl, getToken, bucketId })`
 */
export class Stowage<M extends Meta, B extends Body> extends BasePlugin<StowageOptions<M, B>, M, B> {
  static VERSION = '0.1.0';

  readonly client: StowageClient;
  readonly #inFlight = new Map<string, AbortController>();
  readonly #waiting: Array<() => void> = [];
  #running = 0;

  constructor(uppy: Uppy<M, B>, opts: StowageOptions<M, B>) {
    super(uppy, { limit: 3, ...opts });
    this.type = 'uploader';
    this.id = this.opts.id ?? 'Stowage';
    if (!opts || (typeof opts.bucketId !== 'string' && typeof opts.bucketId !== 'function') || !opts.bucketId)
      throw new TypeError('Stowage: `bucketId` is required (a bucket id, or a function of the file).');
    if (opts.client) this.client = opts.client;
    else if (typeof opts.baseUrl === 'string' && typeof opts.getToken === 'function')
      this.client = createStowageClient({ baseUrl: opts.baseUrl, getToken: opts.getToken });
    else throw new TypeError('Stowage: give `baseUrl` and `getToken`, or a `client`.');
  }

  override install(): void {
    this.uppy.addUploader(this.#upload);
    this.uppy.on('file-removed', this.#onFileRemoved);
    this.uppy.on('cancel-all', this.#onCancelAll);
  }

  override uninstall(): void {
    this.uppy.removeUploader(this.#upload);
    this.uppy.off('file-removed', this.#onFileRemoved);
    this.uppy.off('cancel-all', this.#onCancelAll);
    for (const controller of this.#inFlight.values()) controller.abort();
  }

  #upload = async (fileIDs: string[]): Promise<void> => {
    const files = this.uppy
      .getFilesByIds(fileIDs)
      .filter((f) => !f.error && !f.progress.uploadComplete) as LocalFile<M, B>[];
    if (files.length === 0) return;
    // Golden Retriever's restored files already said so before the reload.
    this.uppy.emit(
      'upload-start',
      files.filter((f) => !f.progress.uploadStarted || !f.isRestored),
    );
    await Promise.allSettled(files.map((file) => this.#queued(file.id)));
  };

  async #queued(id: string): Promise<void> {
    // A finished upload hands its slot to the next in line, so `limit` is never passed.
    if (this.#running >= Math.max(1, this.opts.limit ?? 3))
      await new Promise<void>((go) => this.#waiting.push(go));
    else this.#running++;
    try {
      // Removed while it waited: nothing to send.
      const file = this.uppy.getFile(id) as LocalFile<M, B> | undefined;
      if (file) await this.#uploadFile(file);
    } finally {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#running--;
    }
  }

  async #uploadFile(file: LocalFile<M, B>): Promise<void> {
    if (file.isRemote) {
      this.#fail(file, new Error('Stowage uploads files from this device only, not through Companion.'));
      return;
    }
    if (!(file.data instanceof Blob)) {
      // A Golden Retriever "ghost": its state came back, its bytes did not.
      this.#fail(file, new Error(`Select “${file.name}” again to resume its upload.`));
      return;
    }
    const controller = new AbortController();
    this.#inFlight.set(file.id, controller);
    const uploadStarted = file.progress.uploadStarted ?? Date.now();
    const saved = file.stowage;
    const bucketId =
      saved?.bucketId ??
      (typeof this.opts.bucketId === 'function' ? this.opts.bucketId(file) : this.opts.bucketId);
    const lastModified = saved?.lastModified ?? (file.data as Partial<File>).lastModified ?? 0;
    const state: StowageFileState = { bucketId, lastModified, fileId: saved?.fileId ?? null };
    this.uppy.setFileState(file.id, { stowage: state } as Partial<UppyFile<M, B>>);
    const current = () => this.uppy.getFile(file.id);
    const { opts } = this;
    try {
      const done = await this.client.upload(file.data, {
        bucketId,
        references: this.#referencesOf(file),
        filename: file.meta.name || file.name,
        lastModified,
        contentType: (file.meta.type as string | undefined) || file.type || undefined,
        signal: controller.signal,
        multipartThreshold: opts.multipartThreshold,
        uploadMethod: opts.uploadMethod,
        partChecksums: opts.partChecksums,
        concurrency: opts.concurrency,
        partUrlWindow: opts.partUrlWindow,
        resume: opts.resume,
        minPartSize: opts.minPartSize,
        attempts: opts.attempts,
        retryDelayMs: opts.retryDelayMs,
        sendBytes: opts.sendBytes,
        onInitiated: (pending) => {
          if (current())
            this.uppy.setFileState(file.id, { stowage: { ...state, fileId: pending.id } } as Partial<
              UppyFile<M, B>
            >);
        },
        onResumed: (resumed) => {
          this.uppy.log(
            `[Stowage] Resuming ${file.name}: ${resumed.partsStored} of ${resumed.partCount} parts already stored`,
          );
          this.uppy.emit('stowage:resumed', current(), resumed);
        },
        onProgress: ({ loaded, total }) => {
          const now = current();
          if (now)
            this.uppy.emit('upload-progress', now, {
              uploadStarted,
              bytesUploaded: loaded,
              bytesTotal: total,
            });
        },
      });
      if (controller.signal.aborted || !current()) return;
      if (done.status === 'rejected') {
        const code = done.rejectionReason ?? 'REJECTED';
        this.#reject(
          file,
          new StowageRejectionError({
            message: rejectionMessage(done),
            code,
            status: 200,
            file,
            stowageFileId: done.id,
          }),
        );
        return;
      }
      const fields = this.#metadataOf(file);
      const settled = fields ? await this.client.updateMetadata(done.id, fields) : done;
      this.uppy.emit('upload-success', current(), {
        status: 200,
        body: settled as unknown as B,
        bytesUploaded: settled.size,
      });
    } catch (error) {
      // Removed or cancelled: the client has abandoned the pending file already.
      if (controller.signal.aborted || !current()) return;
      if (isStowageApiError(error) && REJECTION_CODES.has(error.code))
        this.#reject(
          file,
          new StowageRejectionError({
            message: error.message,
            code: error.code,
            status: error.status,
            file,
            cause: error,
          }),
        );
      else this.#fail(file, error instanceof Error ? error : new Error(String(error)));
    } finally {
      this.#inFlight.delete(file.id);
    }
  }

  #referencesOf(file: UppyFile<M, B>): EntityRef[] | undefined {
    const option = this.opts.references;
    const refs = [...(typeof option === 'function' ? option(file) : (option ?? []))];
    const fromMeta = file.meta.references;
    if (Array.isArray(fromMeta)) refs.push(...fromMeta.filter(isEntityRef));
    const { entityType, entityId } = file.meta;
    if (typeof entityType === 'string' && typeof entityId === 'string' && entityType && entityId)
      refs.push({ entityType, entityId });
    const unique = new Map(refs.map((r) => [`${r.entityType}\u0000${r.entityId}`, r]));
    return unique.size > 0 ? [...unique.values()] : undefined;
  }

  #metadataOf(file: UppyFile<M, B>): Record<string, string> | null {
    const fields = this.opts.metadataFields ?? [];
    const picked = fields.flatMap((name) => {
      const value = file.meta[name];
      return typeof value === 'string' ? [[name, value] as const] : [];
    });
    return picked.length > 0 ? Object.fromEntries(picked) : null;
  }

  /** A refusal by the service's rules: Uppy's restriction channel and the file's error. */
  #reject(file: UppyFile<M, B>, error: StowageRejectionError<M, B>): void {
    this.uppy.emit('restriction-failed', this.uppy.getFile(file.id), error);
    this.uppy.emit('upload-error', this.uppy.getFile(file.id), error);
  }

  #fail(file: UppyFile<M, B>, error: Error): void {
    this.uppy.emit('upload-error', this.uppy.getFile(file.id), error);
  }

  #onFileRemoved = (file: UppyFile<M, B>): void => {
    const controller = this.#inFlight.get(file.id);
    if (controller) {
      controller.abort();
      return;
    }
    // A restored upload removed before it went on: abandon it rather than leave it reserved.
    const saved = (file as LocalFile<M, B>).stowage;
    if (!saved?.fileId || file.progress.uploadComplete) return;
    const { fileId } = saved;
    const forget =
      file.data instanceof Blob
        ? this.client.forgetResumableUpload(file.data, {
            bucketId: saved.bucketId,
            filename: file.meta.name || file.name,
            lastModified: saved.lastModified,
            resume: this.opts.resume,
          })
        : Promise.resolve();
    // Best effort: a file that went active or rejected meanwhile answers 409.
    void forget
      .catch(() => undefined)
      .then(() => this.client.abandonUpload(fileId))
      .catch(() => undefined);
  };

  #onCancelAll = (): void => {
    for (const controller of this.#inFlight.values()) controller.abort();
  };
}
