import { S3Client } from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { afterAll, describe, expect, it } from 'vitest';
import {
  checkPolicy,
  type FormFields,
  parsePolicy,
  verifyPolicySignature,
} from '../../../../local/embedded-s3/post-policy.js';

const KEYS = { accessKeyId: 'AKSLPOSTPOLICYTEST000', secretAccessKey: 'post/policy+secret' };
const lookup = (id: string) => (id === KEYS.accessKeyId ? KEYS.secretAccessKey : undefined);
const client = new S3Client({
  region: 'us-east-1',
  endpoint: 'http://127.0.0.1:9',
  forcePathStyle: true,
  credentials: KEYS,
});
afterAll(() => client.destroy());

/** A form as the service's presignPost builds it (createPresignedPost), fields by lower-case name. */
async function form(
  opts: { conditions?: unknown[]; fields?: Record<string, string>; expires?: number } = {},
) {
  const post = await createPresignedPost(client, {
    Bucket: 'uploads',
    Key: 'tenants/acme/b1/f1',
    Conditions: [
      ['eq', '$Content-Type', 'image/png'],
      ['content-length-range', 10, 20],
      ...((opts.conditions ?? []) as never[]),
    ],
    Fields: { 'Content-Type': 'image/png', ...opts.fields },
    Expires: opts.expires ?? 60,
  });
  return new Map(Object.entries(post.fields).map(([name, value]) => [name.toLowerCase(), value]));
}

const edited = (fields: FormFields, changes: Record<string, string | null>) => {
  const copy = new Map(fields);
  for (const [name, value] of Object.entries(changes)) {
    if (value === null) copy.delete(name);
    else copy.set(name, value);
  }
  return copy;
};

const now = () => new Date();
const verdict = (fields: FormFields, bucket = 'uploads', at = now()) => {
  try {
    return checkPolicy(parsePolicy(fields.get('policy') ?? ''), fields, { bucket, now: at });
  } catch (error) {
    return (error as { code: string; message: string }).code;
  }
};

describe('verifyPolicySignature', () => {
  it('accepts the signature createPresignedPost computed, and answers its access key', async () => {
    expect(await verifyPolicySignature(await form(), lookup)).toBe(KEYS.accessKeyId);
  });

  it('refuses an edited policy, an unknown key and a form without a signature', async () => {
    // Prepare
    const fields = await form();
    const policy = JSON.parse(Buffer.from(fields.get('policy') ?? '', 'base64').toString());
    policy.conditions = policy.conditions.map((c: unknown) =>
      JSON.stringify(c) === '{"key":"tenants/acme/b1/f1"}' ? { key: 'tenants/other/b1/f1' } : c,
    );
    const forged = edited(fields, { policy: Buffer.from(JSON.stringify(policy)).toString('base64') });

    // Act
    const codes = await Promise.all(
      [
        verifyPolicySignature(forged, lookup),
        verifyPolicySignature(fields, () => undefined),
        verifyPolicySignature(edited(fields, { 'x-amz-signature': null }), lookup),
        verifyPolicySignature(edited(fields, { 'x-amz-date': '20200101T000000Z' }), lookup),
      ].map((p) => p.then(() => 'accepted').catch((e) => e.code)),
    );

    // Assess
    expect(codes).toEqual(['SignatureDoesNotMatch', 'InvalidAccessKeyId', 'AccessDenied', 'InvalidArgument']);
  });
});

describe('checkPolicy', () => {
  it('answers the content-length range when every condition holds and every field is covered', async () => {
    expect(verdict(await form())).toEqual({ min: 10, max: 20 });
  });

  it.each([
    ['the key edited to another tenant', { key: 'tenants/other/b1/f1' }],
    ['another Content-Type', { 'content-type': 'text/html' }],
    ['no Content-Type', { 'content-type': null }],
    ['an uncovered x-amz-meta field', { 'x-amz-meta-owner': 'mallory' }],
    ['an uncovered x-amz-tagging field', { tagging: '<Tagging/>' }],
    ['an uncovered success_action_redirect', { success_action_redirect: 'https://evil.example' }],
    ['another bucket named in the form', { bucket: 'previews' }],
    [
      'an edited x-amz-credential',
      { 'x-amz-credential': 'AKSLPOSTPOLICYTEST000/20200101/us-east-1/s3/aws4_request' },
    ],
  ])('refuses %s with AccessDenied', async (_, changes) => {
    expect(verdict(edited(await form(), changes))).toBe('AccessDenied');
  });

  it('refuses the form posted to another bucket than the one its policy names', async () => {
    expect(verdict(await form(), 'previews')).toBe('AccessDenied');
  });

  it('refuses an expired policy', async () => {
    expect(verdict(await form({ expires: 60 }), 'uploads', new Date(Date.now() + 61_000))).toBe(
      'AccessDenied',
    );
  });

  it('lets x-ignore-* fields through uncovered (the policy names fields in any case: $Content-Type)', async () => {
    const fields = edited(await form(), { 'x-ignore-tracking': 'anything' });
    expect(verdict(fields)).toEqual({ min: 10, max: 20 });
  });

  it('evaluates starts-with, and the If-None-Match condition that makes a form create-once', async () => {
    // Prepare
    const fields = await form({
      conditions: [
        ['starts-with', '$x-amz-meta-origin', 'web/'],
        ['eq', '$If-None-Match', '*'],
      ],
      fields: { 'x-amz-meta-origin': 'web/upload', 'If-None-Match': '*' },
    });

    // Act / Assess
    expect(verdict(fields)).toEqual({ min: 10, max: 20 });
    expect(verdict(edited(fields, { 'x-amz-meta-origin': 'api/upload' }))).toBe('AccessDenied');
    expect(verdict(edited(fields, { 'if-none-match': null }))).toBe('AccessDenied');
  });

  it('narrows several content-length ranges to their intersection', async () => {
    const fields = await form({ conditions: [['content-length-range', 15, 100]] });
    expect(verdict(fields)).toEqual({ min: 15, max: 20 });
  });
});

describe('parsePolicy', () => {
  it.each([
    ['not base64 JSON', 'bm90IGpzb24'],
    ['no expiration', Buffer.from(JSON.stringify({ conditions: [] })).toString('base64')],
    [
      'an unknown operator',
      Buffer.from(
        JSON.stringify({ expiration: '2030-01-01T00:00:00Z', conditions: [['lt', '$key', 'a']] }),
      ).toString('base64'),
    ],
    [
      'a range that is not numbers',
      Buffer.from(
        JSON.stringify({
          expiration: '2030-01-01T00:00:00Z',
          conditions: [['content-length-range', 'a', 5]],
        }),
      ).toString('base64'),
    ],
    [
      'a condition on a number',
      Buffer.from(JSON.stringify({ expiration: '2030-01-01T00:00:00Z', conditions: [{ key: 5 }] })).toString(
        'base64',
      ),
    ],
  ])('refuses %s as InvalidPolicyDocument', (_, base64) => {
    expect(() => parsePolicy(base64)).toThrow(expect.objectContaining({ code: 'InvalidPolicyDocument' }));
  });
});
