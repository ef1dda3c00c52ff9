import type { Agent as HttpAgent } from 'node:http';
import type { Agent as HttpsAgent } from 'node:https';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { conflict, isStowageError } from '../domain/errors.js';
import {
  InvalidPartsError,
  NoSuchUploadError,
  ObjectChangedError,
  type ObjectHead,
  type ObjectStore,
  ObjectStoreError,
  type ObjectVersion,
  type PresignPutInput,
  type StoredPart,
} from '../ports/object-store.js';

export interface S3ObjectStoreOptions {
  /**
   * Client for the service's calls and its presigned URLs. Must be built with
   * `requestChecksumCalculation: 'WHEN_REQUIRED'` (see `createS3Client`).
   */
  client: S3Client;
  bucket: string;
}

export interface S3ClientOptions {
  region: string;
  /** MinIO, the embedded store or any other S3-compatible server; omitted for AWS S3. */
  endpoint?: string;
  /** @default false */
  forcePathStyle?: boolean;
  /**
   * Static credentials; `anonymous` sends unsigned requests and cannot presign (a tenant's
   * provider without credentials must never borrow ours); omitted uses the SDK's default chain
   * (the Lambda role in AWS), for the deployment's own store only.
   */
  credentials?: S3Credentials | (() => Promise<S3Credentials>) | 'anonymous';
  /** Agents every connection goes through (guarded-http.ts for tenants' endpoints). */
  agents?: { httpAgent: HttpAgent; httpsAgent: HttpsAgent };
  /** @default 3 */
  maxAttempts?: number;
}

/** S3 refuses DeleteObjects with more keys than this. */
const DELETE_BATCH_SIZE = 1000;
const MAX_LIST_KEYS = 1000;
/** Multipart errors that mean "the parts you named are not the parts we hold". */
const INVALID_PARTS_ERRORS = new Set(['InvalidPart', 'InvalidPartOrder', 'EntityTooSmall']);
const MISSING_OBJECT_ERRORS = new Set(['NotFound', 'NoSuchKey']);
/** A conditional request whose condition failed (If-Match / If-None-Match). */
const PRECONDITION_ERRORS = new Set(['PreconditionFailed', 'ConditionalRequestConflict']);
/** Upload URLs create their object once (API.md 13.1): signed into every PUT and POST. */
const CREATE_ONCE = '*';

/**
 * Builds an S3 client that presigns URLs storage will accept and retries with the SDK's
 * adaptive strategy. Use one per endpoint and credential set, at module scope.
 */
export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}

export function createS3Client(opts: S3ClientOptions): S3Client {
  return new S3Client({
    region: opts.region,
    endpoint: opts.endpoint,
    forcePathStyle: opts.forcePathStyle ?? false,
    ...(opts.credentials === 'anonymous' ? anonymous : { credentials: opts.credentials }),
    ...(opts.agents ? { requestHandler: { ...opts.agents } } : {}),
    // The SDK default (WHEN_SUPPORTED) puts a CRC32 of the empty body into presigned PUT URLs,
    // which S3 and MinIO then refuse. The checksums we want (sha256) are set explicitly.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    retryMode: 'adaptive',
    maxAttempts: opts.maxAttempts ?? 3,
  });
}

/**
 * No identity, no signature: requests go out unsigned. The credentials that presigning still
 * asks for refuse, so no URL is ever signed with a key that is not the provider's.
 */
const unsigned = {
  identityProvider: () => async () => ({}),
  signer: { sign: async <R>(request: R) => request },
};
const anonymous = {
  httpAuthSchemes: [
    { schemeId: 'aws.auth#sigv4', ...unsigned },
    { schemeId: 'aws.auth#sigv4a', ...unsigned },
  ],
  credentials: async (): Promise<S3Credentials> => {
    throw conflict('The provider has no credentials, so the service cannot sign URLs for it.');
  },
};

/** The `ObjectStore` port over one bucket of AWS S3, MinIO or the embedded store. */
export function createS3ObjectStore(opts: S3ObjectStoreOptions): ObjectStore {
  const { client, bucket } = opts;
  let presignClientChecked: Promise<void> | undefined;

  /** Fails fast on a client that would put an empty-body checksum into every upload URL. */
  const checkedPresignClient = async (): Promise<S3Client> => {
    presignClientChecked ??= (async () => {
      const mode = await client.config.requestChecksumCalculation();
      if (mode !== 'WHEN_REQUIRED') {
        throw new ObjectStoreError(
          `The presigning S3 client uses requestChecksumCalculation '${mode}': S3 would refuse ` +
            "its upload URLs. Build it with createS3Client or set 'WHEN_REQUIRED'.",
        );
      }
    })();
    await presignClientChecked;
    return client;
  };

  const send = async <T>(operation: string, key: string | null, call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (error) {
      throw storeError(operation, key, error);
    }
  };

  /** A GET of exactly the object validation saw: its version where kept, else its ETag. */
  const getTarget = (key: string, version: ObjectVersion | undefined) => ({
    Bucket: bucket,
    Key: key,
    ...(version?.versionId ? { VersionId: version.versionId } : {}),
    ...(version?.etag && !version.versionId ? { IfMatch: version.etag } : {}),
  });

  const store: ObjectStore = {
    async presignPut(input) {
      const signer = await checkedPresignClient();
      const checksum = input.checksumSha256Base64;
      const url = await send('presignPut', input.key, () =>
        getSignedUrl(
          signer,
          new PutObjectCommand({
            Bucket: bucket,
            Key: input.key,
            ContentLength: input.contentLength,
            ContentType: input.contentType,
            ContentDisposition: input.contentDisposition,
            IfNoneMatch: CREATE_ONCE,
            ChecksumSHA256: checksum,
          }),
          {
            expiresIn: input.expiresInSeconds,
            // Signed, these make storage itself refuse another body, type or disposition, and a
            // second write to the key: the URL creates its object once.
            signableHeaders: new Set([
              'content-length',
              'content-type',
              'content-disposition',
              'if-none-match',
              ...(checksum ? ['x-amz-checksum-sha256'] : []),
            ]),
            // Hoisted into the query string, the checksum would not be compared with the body.
            ...(checksum ? { unhoistableHeaders: new Set(['x-amz-checksum-sha256']) } : {}),
          },
        ),
      );
      // Content-Length is signed too, but a browser sets it from the body and may not set it
      // by hand; a body of another length fails the signature.
      const headers: Record<string, string> = {
        'Content-Type': input.contentType,
        'Content-Disposition': input.contentDisposition,
        'If-None-Match': CREATE_ONCE,
      };
      if (checksum) headers['x-amz-checksum-sha256'] = checksum;
      return { url, headers };
    },

    async presignPost(input: PresignPutInput) {
      const signer = await checkedPresignClient();
      const checksum = input.checksumSha256Base64;
      // `If-None-Match` as a policy-covered field is the POST form of create-once: the embedded
      // store honours it; S3 itself has no conditional POST, where versioning and the storage
      // event's check of the validated version hold the line instead (README, security).
      const fields: Record<string, string> = {
        'Content-Type': input.contentType,
        'Content-Disposition': input.contentDisposition,
        'If-None-Match': CREATE_ONCE,
      };
      if (checksum) {
        fields['x-amz-checksum-algorithm'] = 'SHA256';
        fields['x-amz-checksum-sha256'] = checksum;
      }
      // createPresignedPost adds an exact-match condition for the key and for every field.
      const post = await send('presignPost', input.key, () =>
        createPresignedPost(signer, {
          Bucket: bucket,
          Key: input.key,
          Conditions: [['content-length-range', input.contentLength, input.contentLength]],
          Fields: fields,
          Expires: input.expiresInSeconds,
        }),
      );
      return { url: post.url, fields: post.fields };
    },

    async presignGet(input) {
      const signer = await checkedPresignClient();
      return send('presignGet', input.key, () =>
        getSignedUrl(
          signer,
          new GetObjectCommand({
            Bucket: bucket,
            Key: input.key,
            VersionId: input.versionId ?? undefined,
            ResponseContentType: input.responseContentType,
            ResponseContentDisposition: input.responseContentDisposition,
          }),
          { expiresIn: input.expiresInSeconds },
        ),
      );
    },

    async createMultipartUpload(input) {
      const output = await send('createMultipartUpload', input.key, () =>
        client.send(
          new CreateMultipartUploadCommand({
            Bucket: bucket,
            Key: input.key,
            ContentType: input.contentType,
            ContentDisposition: input.contentDisposition,
            // Composite: each part's SHA-256 is verified as it arrives, none of the whole object.
            ...(input.partChecksums ? { ChecksumAlgorithm: 'SHA256', ChecksumType: 'COMPOSITE' } : {}),
          }),
        ),
      );
      if (!output.UploadId) {
        throw new ObjectStoreError(`S3 createMultipartUpload of '${input.key}' returned no upload id`);
      }
      return { uploadId: output.UploadId };
    },

    async presignUploadPart(input) {
      const signer = await checkedPresignClient();
      const checksum = input.checksumSha256Base64;
      const url = await send('presignUploadPart', input.key, () =>
        getSignedUrl(
          signer,
          new UploadPartCommand({
            Bucket: bucket,
            Key: input.key,
            UploadId: input.uploadId,
            PartNumber: input.partNumber,
            ContentLength: input.contentLength,
            ChecksumSHA256: checksum,
          }),
          // Without the length signed, a part URL takes any body (a 0-byte declaration took 24 MiB);
          // with the checksum signed (and left a header), storage refuses other bytes of that length.
          {
            expiresIn: input.expiresInSeconds,
            signableHeaders: new Set(['content-length', ...(checksum ? ['x-amz-checksum-sha256'] : [])]),
            ...(checksum ? { unhoistableHeaders: new Set(['x-amz-checksum-sha256']) } : {}),
          },
        ),
      );
      const headers: Record<string, string> = checksum ? { 'x-amz-checksum-sha256': checksum } : {};
      return { url, headers };
    },

    async listParts(input) {
      const parts: StoredPart[] = [];
      let marker: string | undefined;
      do {
        const page = await client
          .send(
            new ListPartsCommand({
              Bucket: bucket,
              Key: input.key,
              UploadId: input.uploadId,
              PartNumberMarker: marker,
            }),
          )
          .catch((error: unknown) => {
            if (errorName(error) === 'NoSuchUpload') throw noSuchUpload(input.key, error);
            throw storeError('listParts', input.key, error);
          });
        for (const part of page.Parts ?? [])
          if (part.PartNumber !== undefined && part.ETag)
            parts.push({
              partNumber: part.PartNumber,
              etag: part.ETag,
              size: part.Size ?? 0,
              checksumSha256Base64: part.ChecksumSHA256 ?? null,
            });
        marker = page.IsTruncated ? page.NextPartNumberMarker : undefined;
      } while (marker);
      return parts.sort((a, b) => a.partNumber - b.partNumber);
    },

    async completeMultipartUpload(input) {
      // S3 completes an upload created with part checksums only with each part's checksum.
      const checksums = input.partChecksums
        ? new Map((await store.listParts(input)).map((p) => [p.partNumber, p.checksumSha256Base64]))
        : null;
      const parts = [...input.parts]
        .sort((a, b) => a.partNumber - b.partNumber)
        .map((part) => ({
          PartNumber: part.partNumber,
          ETag: part.etag,
          ...(checksums?.get(part.partNumber)
            ? { ChecksumSHA256: checksums.get(part.partNumber) as string }
            : {}),
        }));
      try {
        await client.send(
          new CompleteMultipartUploadCommand({
            Bucket: bucket,
            Key: input.key,
            UploadId: input.uploadId,
            MultipartUpload: { Parts: parts },
            IfNoneMatch: CREATE_ONCE,
          }),
        );
      } catch (error) {
        const name = errorName(error);
        if (isPreconditionFailure(error)) {
          throw new ObjectChangedError(`An object already exists at '${input.key}'`, { cause: error });
        }
        if (name && INVALID_PARTS_ERRORS.has(name)) {
          throw new InvalidPartsError(`The parts do not match the upload of '${input.key}' (${name})`, {
            cause: error,
          });
        }
        if (name === 'NoSuchUpload') throw noSuchUpload(input.key, error);
        throw storeError('completeMultipartUpload', input.key, error);
      }
    },

    async abortMultipartUpload(input) {
      try {
        await client.send(
          new AbortMultipartUploadCommand({ Bucket: bucket, Key: input.key, UploadId: input.uploadId }),
        );
      } catch (error) {
        if (errorName(error) === 'NoSuchUpload') throw noSuchUpload(input.key, error);
        throw storeError('abortMultipartUpload', input.key, error);
      }
    },

    async head(key) {
      try {
        const output = await client.send(
          new HeadObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: 'ENABLED' }),
        );
        return {
          size: output.ContentLength ?? 0,
          contentType: output.ContentType ?? null,
          etag: output.ETag ?? null,
          versionId: output.VersionId ?? null,
          checksumSha256Base64: fullObjectChecksum(output.ChecksumSHA256, output.ChecksumType),
          lastModified: output.LastModified ?? null,
        } satisfies ObjectHead;
      } catch (error) {
        if (isMissingObject(error)) return null;
        throw storeError('head', key, error);
      }
    },

    async readFirstBytes(key, length, version) {
      if (length < 1) return (await store.head(key)) ? new Uint8Array(0) : null;
      try {
        const output = await client.send(
          new GetObjectCommand({ ...getTarget(key, version), Range: `bytes=0-${length - 1}` }),
        );
        return await readAtMost(toReadable(output.Body), length);
      } catch (error) {
        if (isPreconditionFailure(error)) throw objectChanged(key, error);
        if (isMissingObject(error)) return null;
        // S3 answers a range on an empty object with 416 rather than an empty body.
        if (errorName(error) === 'InvalidRange' || httpStatus(error) === 416) return new Uint8Array(0);
        throw storeError('readFirstBytes', key, error);
      }
    },

    async stream(key, version) {
      try {
        const output = await client.send(new GetObjectCommand(getTarget(key, version)));
        return toReadable(output.Body);
      } catch (error) {
        if (isPreconditionFailure(error)) throw objectChanged(key, error);
        if (isMissingObject(error)) return null;
        throw storeError('stream', key, error);
      }
    },

    async put(input) {
      await send('put', input.key, () =>
        client.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: input.key,
            Body: input.body,
            ContentType: input.contentType,
            ContentLength: input.body.byteLength,
          }),
        ),
      );
    },

    async tag(input) {
      await send('tag', input.key, () =>
        client.send(
          new PutObjectTaggingCommand({
            Bucket: bucket,
            Key: input.key,
            VersionId: input.versionId,
            Tagging: { TagSet: Object.entries(input.tags).map(([Key, Value]) => ({ Key, Value })) },
          }),
        ),
      );
    },

    async tags(key, versionId) {
      try {
        const answer = await client.send(
          new GetObjectTaggingCommand({ Bucket: bucket, Key: key, VersionId: versionId }),
        );
        return Object.fromEntries((answer.TagSet ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
      } catch (error) {
        if (isMissingObject(error)) return null;
        throw error;
      }
    },

    async copy(input) {
      await send('copy', input.sourceKey, () =>
        client.send(
          new CopyObjectCommand({
            Bucket: bucket,
            Key: input.destinationKey,
            // URL-encoded per segment, as S3 wants it; `/` between segments stays as is.
            CopySource: `${bucket}/${input.sourceKey.split('/').map(encodeURIComponent).join('/')}`,
          }),
        ),
      );
    },

    async delete(key, versionId) {
      // S3 answers 204 for a missing key too.
      await send('delete', key, () =>
        client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId })),
      );
    },

    async deleteMany(keys) {
      for (let start = 0; start < keys.length; start += DELETE_BATCH_SIZE) {
        const batch = keys.slice(start, start + DELETE_BATCH_SIZE);
        const output = await send('deleteMany', null, () =>
          client.send(
            new DeleteObjectsCommand({
              Bucket: bucket,
              Delete: { Objects: batch.map((key) => ({ Key: key })), Quiet: true },
            }),
          ),
        );
        // DeleteObjects answers 200 and lists per-key failures (AccessDenied, InternalError...).
        const failed = output.Errors ?? [];
        if (failed.length > 0) {
          const first = failed[0];
          throw new ObjectStoreError(
            `S3 deleteMany failed for ${failed.length} of ${batch.length} keys` +
              ` (first: '${first?.Key}', ${first?.Code})`,
          );
        }
      }
    },

    async list(input) {
      const output = await send('list', input.prefix, () =>
        client.send(
          new ListObjectsV2Command({
            Bucket: bucket,
            Prefix: input.prefix,
            ContinuationToken: input.cursor,
            MaxKeys: Math.min(input.limit ?? MAX_LIST_KEYS, MAX_LIST_KEYS),
          }),
        ),
      );
      return {
        objects: (output.Contents ?? []).flatMap((object) =>
          object.Key === undefined
            ? []
            : [{ key: object.Key, size: object.Size ?? 0, lastModified: object.LastModified ?? null }],
        ),
        nextCursor: output.IsTruncated && output.NextContinuationToken ? output.NextContinuationToken : null,
      };
    },
  };
  return store;
}

/**
 * S3 keeps a full-object SHA-256 only for single-part uploads (and full-object multipart
 * uploads); for other multipart objects it is a checksum of the part checksums, `...-N`.
 */
function fullObjectChecksum(checksum: string | undefined, type: string | undefined): string | null {
  if (!checksum || type === 'COMPOSITE' || /-\d+$/.test(checksum)) return null;
  return checksum;
}

function toReadable(body: unknown): Readable {
  if (body instanceof Readable) return body;
  // A fetch-based request handler hands back a web stream.
  if (body && typeof (body as WebReadableStream).getReader === 'function') {
    return Readable.fromWeb(body as WebReadableStream);
  }
  throw new ObjectStoreError('S3 returned an object without a readable body');
}

/** Reads up to `length` bytes and lets go of the rest, whether or not the server honoured the range. */
async function readAtMost(body: Readable, length: number): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let received = 0;
  try {
    for await (const chunk of body) {
      const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
      chunks.push(buffer);
      received += buffer.length;
      if (received >= length) break;
    }
  } finally {
    body.destroy();
  }
  const all = Buffer.concat(chunks);
  return new Uint8Array(all.buffer, all.byteOffset, Math.min(all.length, length));
}

function errorName(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { name, Code } = error as { name?: unknown; Code?: unknown };
  if (typeof Code === 'string') return Code;
  return typeof name === 'string' ? name : undefined;
}

function httpStatus(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  return (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

/** A missing key, not a missing bucket (which is a misconfiguration and must fail loudly). */
function isMissingObject(error: unknown): boolean {
  const name = errorName(error);
  if (name && MISSING_OBJECT_ERRORS.has(name)) return true;
  return httpStatus(error) === 404 && name !== 'NoSuchBucket';
}

function isPreconditionFailure(error: unknown): boolean {
  const name = errorName(error);
  return (name !== undefined && PRECONDITION_ERRORS.has(name)) || httpStatus(error) === 412;
}

function objectChanged(key: string, cause: unknown): ObjectChangedError {
  return new ObjectChangedError(`The object at '${key}' is not the one asked for`, { cause });
}

function noSuchUpload(key: string, cause: unknown): NoSuchUploadError {
  return new NoSuchUploadError(`No multipart upload with that id for '${key}'`, { cause });
}

/**
 * The message names the operation, key, error code and status only: SDK messages and requests
 * can carry signed URLs and credentials, which stay on `cause` for local debugging.
 */
function storeError(operation: string, key: string | null, cause: unknown): Error {
  // A domain error raised on the way (an anonymous provider asked to sign) keeps its code.
  if (cause instanceof ObjectStoreError || isStowageError(cause)) return cause;
  const name = errorName(cause) ?? 'Error';
  const status = httpStatus(cause);
  const where = key === null ? '' : ` of '${key}'`;
  return new ObjectStoreError(`S3 ${operation}${where} failed: ${name}${status ? ` (HTTP ${status})` : ''}`, {
    cause,
  });
}
