import { timingSafeEqual } from 'node:crypto';
import { s3Errors } from './errors.js';
import { ALGORITHM, parseLongDate, type SecretLookup, signWithKey } from './sigv4.js';

/**
 * Browser-form uploads (POST object): the policy's SigV4 signature, its expiration and every
 * condition, as S3 checks them. Form field names are compared in lower case; values exactly.
 *
 * Our addition: an `If-None-Match` field with the value `*`, covered by the policy
 * (`["eq", "$If-None-Match", "*"]`), makes the POST create-once like the PutObject header does
 * (S3 has no POST equivalent; the service signs it and this store honours it).
 */

export type PolicyCondition =
  | { kind: 'eq' | 'starts-with'; field: string; value: string }
  | { kind: 'content-length-range'; min: number; max: number };

export interface PostPolicy {
  expiration: Date;
  conditions: PolicyCondition[];
}

/** Form fields by lower-case name. */
export type FormFields = ReadonlyMap<string, string>;

/** Fields S3 never asks a policy to cover. */
const EXEMPT = (name: string) =>
  name === 'x-amz-signature' || name === 'file' || name === 'policy' || name.startsWith('x-ignore-');

/** Decodes and checks the shape of a base64 policy; InvalidPolicyDocument otherwise. */
export function parsePolicy(base64: string): PostPolicy {
  const invalid = (why: string) => s3Errors.invalidPolicyDocument(`Invalid Policy: ${why}`);
  let document: unknown;
  try {
    document = JSON.parse(Buffer.from(base64, 'base64').toString('utf8'));
  } catch {
    throw invalid('not base64-encoded JSON');
  }
  if (!document || typeof document !== 'object') throw invalid('not a JSON object');
  const { expiration, conditions } = document as { expiration?: unknown; conditions?: unknown };
  const expires = typeof expiration === 'string' ? new Date(expiration) : null;
  if (!expires || Number.isNaN(expires.getTime())) throw invalid('expiration is missing or not a date');
  if (!Array.isArray(conditions)) throw invalid('conditions is not an array');
  return {
    expiration: expires,
    conditions: conditions.flatMap((condition) => parseCondition(condition, invalid)),
  };
}

function parseCondition(condition: unknown, invalid: (why: string) => Error): PolicyCondition[] {
  if (Array.isArray(condition)) {
    const [operator, field, value] = condition as unknown[];
    const op = typeof operator === 'string' ? operator.toLowerCase() : '';
    if (op === 'content-length-range') {
      const min = Number(field);
      const max = Number(value);
      if (
        condition.length !== 3 ||
        !Number.isSafeInteger(min) ||
        !Number.isSafeInteger(max) ||
        min < 0 ||
        max < min
      ) {
        throw invalid('content-length-range needs two integers, min <= max');
      }
      return [{ kind: 'content-length-range', min, max }];
    }
    if (
      (op === 'eq' || op === 'starts-with') &&
      condition.length === 3 &&
      typeof field === 'string' &&
      field.startsWith('$') &&
      typeof value === 'string'
    ) {
      return [{ kind: op, field: field.slice(1).toLowerCase(), value }];
    }
    throw invalid(`unknown or malformed condition ${JSON.stringify(condition).slice(0, 80)}`);
  }
  if (condition && typeof condition === 'object') {
    return Object.entries(condition).map(([field, value]) => {
      if (typeof value !== 'string') throw invalid(`the condition on ${field} is not a string`);
      return { kind: 'eq' as const, field: field.toLowerCase(), value };
    });
  }
  throw invalid('a condition is neither an object nor an array');
}

/**
 * The form's signature: `x-amz-signature` is the HMAC of the base64 policy with the SigV4
 * signing key of `x-amz-credential` and `x-amz-date`. Answers the signing access key id.
 */
export async function verifyPolicySignature(fields: FormFields, findSecret: SecretLookup): Promise<string> {
  const policy = fields.get('policy');
  const signature = fields.get('x-amz-signature');
  if (policy === undefined || signature === undefined) {
    throw s3Errors.accessDenied('Anonymous POST uploads are not allowed: sign the policy');
  }
  if (fields.get('x-amz-algorithm') !== ALGORITHM) {
    throw s3Errors.invalidArgument('x-amz-algorithm must be AWS4-HMAC-SHA256', {
      ArgumentName: 'x-amz-algorithm',
    });
  }
  const longDate = fields.get('x-amz-date') ?? '';
  const date = parseLongDate(longDate);
  const [accessKeyId = '', shortDate, region, service, terminator, ...rest] = (
    fields.get('x-amz-credential') ?? ''
  ).split('/');
  if (
    !date ||
    shortDate !== longDate.slice(0, 8) ||
    !region ||
    service !== 's3' ||
    terminator !== 'aws4_request' ||
    rest.length > 0
  ) {
    throw s3Errors.invalidArgument('x-amz-credential and x-amz-date are not a valid SigV4 scope', {
      ArgumentName: 'x-amz-credential',
    });
  }
  const secretAccessKey = findSecret(accessKeyId);
  if (secretAccessKey === undefined)
    throw s3Errors.invalidAccessKeyId(undefined, { AWSAccessKeyId: accessKeyId });
  const expected = Buffer.from(await signWithKey({ accessKeyId, secretAccessKey }, date, region, policy));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given))
    throw s3Errors.signatureDoesNotMatch();
  return accessKeyId;
}

/**
 * The policy holds: not expired, every condition true, every field covered by a condition.
 * `bucket` is the bucket of the URL (a `bucket` field, if any, must name it too). Answers the
 * content-length range to enforce on the file's real length.
 */
export function checkPolicy(
  policy: PostPolicy,
  fields: FormFields,
  context: { bucket: string; now: Date },
): { min: number; max: number } | null {
  if (context.now.getTime() > policy.expiration.getTime()) {
    throw s3Errors.accessDenied('Invalid according to Policy: Policy expired.');
  }
  const formBucket = fields.get('bucket');
  if (formBucket !== undefined && formBucket !== context.bucket) {
    throw s3Errors.accessDenied('Invalid according to Policy: the bucket field is not the bucket of the URL');
  }
  let range = null as { min: number; max: number } | null;
  const covered = new Set<string>();
  for (const condition of policy.conditions) {
    if (condition.kind === 'content-length-range') {
      range = {
        min: Math.max(range?.min ?? 0, condition.min),
        max: Math.min(range?.max ?? Number.MAX_SAFE_INTEGER, condition.max),
      };
      continue;
    }
    covered.add(condition.field);
    const actual = condition.field === 'bucket' ? context.bucket : (fields.get(condition.field) ?? '');
    const holds = condition.kind === 'eq' ? actual === condition.value : actual.startsWith(condition.value);
    if (!holds) {
      throw s3Errors.accessDenied(
        `Invalid according to Policy: Policy Condition failed: ["${condition.kind}", "$${condition.field}", ${JSON.stringify(condition.value)}]`,
      );
    }
  }
  const extra = [...fields.keys()].filter((name) => !EXEMPT(name) && !covered.has(name));
  if (extra.length > 0) {
    throw s3Errors.accessDenied(`Invalid according to Policy: Extra input fields: ${extra.join(', ')}`);
  }
  return range;
}
