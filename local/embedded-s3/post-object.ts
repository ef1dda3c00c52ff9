import { Busboy, type BusboyFileStream, type BusboyInstance } from '@fastify/busboy';
import { escapeUri } from '@smithy/core/protocols';
import { receiveFormFile } from './body.js';
import { type DeclaredChecksum, parseAlgorithm, validChecksum } from './checksums.js';
import { checkedWriteConditions, checkWriteConditions } from './conditions.js';
import { s3Errors } from './errors.js';
import { propertiesFrom } from './object-properties.js';
import { checksumHeaders, created, MAX_OBJECT_BYTES, quoted } from './objects.js';
import { checkPolicy, type FormFields, parsePolicy, verifyPolicySignature } from './post-policy.js';
import { bucketOf, header, type RequestContext } from './request.js';
import { S3_XMLNS, sendXml } from './xml.js';

const MAX_KEY_BYTES = 1024;
const FORM_LIMITS = { fieldNameSize: 200, fieldSize: 64 * 1024, fields: 100, parts: 110, headerPairs: 50 };

interface Form {
  fields: Map<string, string>;
  file: BusboyFileStream;
  filename: string;
}

/**
 * PostObject (a browser form): fields up to the `file` part, which must come last (S3 ignores
 * what follows). The signature, expiry and every condition are checked before a byte of the file
 * is kept; the file's real length must lie in the policy's content-length-range.
 */
export async function postObject(ctx: RequestContext): Promise<void> {
  const bucket = bucketOf(ctx);
  ctx.state.objects.requireBucket(bucket);
  const type = header(ctx, 'content-type') ?? '';
  if (!/^multipart\/form-data\s*;/i.test(type)) {
    throw s3Errors.preconditionFailed('Bucket POST must be of the enclosure-type multipart/form-data');
  }
  const form = await readForm(ctx);
  try {
    await store(ctx, bucket, form);
  } finally {
    // Whatever was not read is drained, so the request can end and the answer reach the browser.
    form.file.resume();
  }
}

async function store(ctx: RequestContext, bucket: string, form: Form): Promise<void> {
  const { fields } = form;
  const { objects, keyPair } = ctx.state;
  await verifyPolicySignature(fields, (id) =>
    id === keyPair.accessKeyId ? keyPair.secretAccessKey : undefined,
  );
  const range = checkPolicy(parsePolicy(fields.get('policy') ?? ''), fields, { bucket, now: new Date() });
  const key = objectKey(fields, form.filename);
  const properties = propertiesFrom(
    (name) => fields.get(name),
    [...fields.keys()].filter((name) => name.startsWith('x-amz-meta-')),
  );
  const conditions = checkedWriteConditions({ ifNoneMatch: fields.get('if-none-match') });
  checkWriteConditions(await objects.head(bucket, key), conditions);

  const temp = objects.tempFile();
  const body = await receiveFormFile(
    form.file,
    {
      min: range?.min ?? 0,
      max: Math.min(range?.max ?? MAX_OBJECT_BYTES, MAX_OBJECT_BYTES),
      checksum: formChecksum(fields),
    },
    temp,
  );
  const meta = await objects.commit(
    bucket,
    key,
    temp,
    {
      ...properties,
      size: body.size,
      etag: body.md5Hex,
      ...(body.checksum ? { checksum: { ...body.checksum, type: 'FULL_OBJECT' } } : {}),
    },
    (current) => checkWriteConditions(current, conditions),
  );

  const location = `http://${header(ctx, 'host') ?? 'localhost'}/${bucket}/${key.split('/').map(escapeUri).join('/')}`;
  ctx.res.setHeader('ETag', quoted(meta.etag));
  ctx.res.setHeader('Location', location);
  for (const [name, value] of Object.entries(checksumHeaders(meta))) ctx.res.setHeader(name, value);
  const status = fields.get('success_action_status');
  if (status === '201') {
    sendXml(ctx.res, 201, {
      PostResponse: {
        '@_xmlns': S3_XMLNS,
        Location: location,
        Bucket: bucket,
        Key: key,
        ETag: quoted(meta.etag),
      },
    });
  } else {
    ctx.res.writeHead(status === '200' ? 200 : 204);
    ctx.res.end();
  }
  ctx.state.events.emitAfter(ctx.res, created(ctx, 'ObjectCreated:Post', meta));
}

/** Parses fields until the `file` part arrives; MalformedPOSTRequest for anything else. */
function readForm(ctx: RequestContext): Promise<Form> {
  return new Promise((resolve, reject) => {
    let parser: BusboyInstance;
    try {
      parser = Busboy({
        headers: { ...ctx.req.headers, 'content-type': header(ctx, 'content-type') ?? '' },
        limits: FORM_LIMITS,
        isPartAFile: (name) => name === 'file',
      });
    } catch {
      reject(s3Errors.malformedPost());
      return;
    }
    const fields = new Map<string, string>();
    let failure: Error | null = null;
    let settled = false;
    parser.on('field', (name, value, nameTruncated, valueTruncated) => {
      // Fields after the file are ignored, as S3 ignores them.
      if (settled) return;
      const lower = name.toLowerCase();
      if (nameTruncated || valueTruncated)
        failure ??= s3Errors.malformedPost(`The form field ${lower.slice(0, 60)} is too long`);
      if (fields.has(lower))
        failure ??= s3Errors.invalidArgument(`The form field ${lower.slice(0, 60)} is given more than once`);
      fields.set(lower, value);
    });
    parser.on('file', (_name, file, filename) => {
      if (settled) {
        file.resume();
        return;
      }
      settled = true;
      if (failure) {
        file.resume();
        reject(failure);
        return;
      }
      resolve({ fields, file, filename: filename ?? '' });
    });
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      reject(error);
    };
    parser.on('error', () => fail(s3Errors.malformedPost()));
    parser.on('finish', () =>
      fail(
        failure ??
          s3Errors.invalidArgument('POST requires exactly one file upload per request.', {
            ArgumentName: 'file',
          }),
      ),
    );
    parser.on('partsLimit', () => fail(s3Errors.malformedPost('The form has too many parts')));
    parser.on('fieldsLimit', () => fail(s3Errors.malformedPost('The form has too many fields')));
    ctx.req.on('error', () => fail(s3Errors.incompleteBody()));
    ctx.req.pipe(parser);
  });
}

/** The `key` field, with S3's `${filename}` substitution (the file part's name, without a path). */
function objectKey(fields: FormFields, filename: string): string {
  const raw = fields.get('key');
  if (raw === undefined || raw === '') {
    throw s3Errors.invalidArgument("Bucket POST must contain a field named 'key'.", { ArgumentName: 'key' });
  }
  // biome-ignore lint/suspicious/noTemplateCurlyInString: S3's literal ${filename} variable, not a template
  const key = raw.replaceAll('${filename}', filename.split(/[\\/]/).pop() ?? '');
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES)
    throw s3Errors.keyTooLong(undefined, { MaxSizeAllowed: MAX_KEY_BYTES });
  return key;
}

/** x-amz-checksum-<algorithm> as a form field (x-amz-checksum-algorithm names it, optionally). */
function formChecksum(fields: FormFields): DeclaredChecksum {
  const named = fields.get('x-amz-checksum-algorithm');
  const algorithms = ['sha256', 'sha1', 'crc32', 'crc32c', 'crc64nvme'].filter((name) =>
    fields.has(`x-amz-checksum-${name}`),
  );
  if (algorithms.length > 1) throw s3Errors.invalidRequest('Expecting a single x-amz-checksum- field');
  const name = algorithms[0];
  if (name === undefined) {
    if (named !== undefined) parseAlgorithm(named);
    return null;
  }
  const algorithm = parseAlgorithm(name);
  if (named !== undefined && parseAlgorithm(named) !== algorithm) {
    throw s3Errors.invalidRequest('x-amz-checksum-algorithm does not name the checksum field sent');
  }
  return {
    in: 'header',
    checksum: validChecksum(algorithm, (fields.get(`x-amz-checksum-${name}`) ?? '').trim()),
  };
}
