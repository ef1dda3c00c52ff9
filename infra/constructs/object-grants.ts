import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';

export type ObjectAction =
  | 's3:GetObject'
  // GetObject and DeleteObject of a named version (VersionId) are separate actions in IAM
  | 's3:GetObjectVersion'
  | 's3:PutObject'
  | 's3:DeleteObject'
  | 's3:DeleteObjectVersion'
  | 's3:AbortMultipartUpload'
  // GET /v1/files/{id}/upload (resume) lists the parts storage holds
  | 's3:ListMultipartUploadParts'
  // quarantine by tag: the bucket policy denies reads of tagged objects
  | 's3:PutObjectTagging'
  | 's3:PutObjectVersionTagging'
  // GuardDuty's verdict tag (API.md 13.6)
  | 's3:GetObjectTagging'
  | 's3:GetObjectVersionTagging';

const WRITES: readonly ObjectAction[] = ['s3:PutObject'];

/**
 * Object permissions under one key prefix, exact actions rather than the `s3:*Object*` wildcards
 * of `bucket.grantReadWrite`. Presigned URLs act with the signer's permissions, so the API's
 * role is what a browser upload or download is allowed to do.
 */
export function grantObjects(
  bucket: s3.IBucket,
  grantee: iam.IGrantable,
  prefix: string,
  actions: readonly ObjectAction[],
): iam.Grant {
  const grant = iam.Grant.addToPrincipal({
    grantee,
    actions: [...actions],
    resourceArns: [bucket.arnForObjects(`${prefix}*`)],
  });
  if (bucket.encryptionKey) {
    if (actions.some((a) => WRITES.includes(a))) bucket.encryptionKey.grantEncryptDecrypt(grantee);
    else bucket.encryptionKey.grantDecrypt(grantee);
  }
  return grant;
}

/**
 * `s3:ListBucket` on the bucket. Without it S3 answers HeadObject and GetObject on a missing key
 * with 403 instead of 404, and the store adapter could no longer tell "not arrived yet" from a
 * failure. Object keys hold only ids (shared/domain/keys.ts), never user text.
 */
export function grantListBucket(bucket: s3.IBucket, grantee: iam.IGrantable): iam.Grant {
  return iam.Grant.addToPrincipal({ grantee, actions: ['s3:ListBucket'], resourceArns: [bucket.bucketArn] });
}
