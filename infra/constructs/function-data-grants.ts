import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { objectKeys } from '../../shared/domain/keys.js';
import { grantListBucket, grantObjects, type ObjectAction } from './object-grants.js';

const TENANTS_ROOT = objectKeys.tenantsRoot;
const QUARANTINE_ROOT = objectKeys.quarantineRoot;

/** GuardDuty Malware Protection writes its verdict as a tag on the object version. */
const SCAN_TAG_READS: ObjectAction[] = ['s3:GetObjectTagging', 's3:GetObjectVersionTagging'];
/** Quarantine in place: the rejected object (and its version) is tagged. */
const TAGGING: ObjectAction[] = ['s3:PutObjectTagging', 's3:PutObjectVersionTagging'];

export interface DataResources {
  readonly table: dynamodb.ITable;
  readonly uploadsBucket: s3.IBucket;
  readonly previewBucket: s3.IBucket;
  /** `{secretsArnPrefix}/*`: every provider secret of the deployment. */
  readonly secretsArn: string;
  readonly quarantineRejected: boolean;
}

export interface TenantScopedFunctions {
  readonly api: lambda.IFunction;
  readonly processUpload: lambda.IFunction;
  readonly renderPreview: lambda.IFunction;
  readonly renderPreviewBrowser: lambda.IFunction;
  readonly verifyChecksum?: lambda.IFunction;
  readonly malwareScanResult?: lambda.IFunction;
}

/** Without tenant isolation: the data permissions the tenant-scoped functions use, on their own roles. */
export function grantDirectData(fns: TenantScopedFunctions, r: DataResources): void {
  const grants: [lambda.IFunction, ObjectAction[], ObjectAction[]][] = [
    // presigned PUT/POST/parts/GET (of a version), complete (head, first bytes), abandon, delete;
    // previews: head and first bytes of a cached one, presigned GET, drop and purge
    [
      fns.api,
      [
        's3:GetObject',
        's3:GetObjectVersion',
        's3:PutObject',
        's3:DeleteObject',
        's3:DeleteObjectVersion',
        's3:AbortMultipartUpload',
        's3:ListMultipartUploadParts',
      ],
      ['s3:GetObject', 's3:DeleteObject'],
    ],
    // validation: head, first bytes, removal of a rejected object's version
    [
      fns.processUpload,
      ['s3:GetObject', 's3:GetObjectVersion', 's3:DeleteObject', 's3:DeleteObjectVersion'],
      [],
    ],
    // reads the source, writes the PNG (and removes it when the file changed meanwhile)
    [fns.renderPreview, ['s3:GetObject', 's3:GetObjectVersion'], ['s3:PutObject', 's3:DeleteObject']],
    [fns.renderPreviewBrowser, ['s3:GetObject', 's3:GetObjectVersion'], ['s3:PutObject', 's3:DeleteObject']],
  ];
  // reads the whole object once, and rejects it (tag or delete) when the sha256 differs
  if (fns.verifyChecksum)
    grants.push([
      fns.verifyChecksum,
      ['s3:GetObject', 's3:GetObjectVersion', 's3:DeleteObject', 's3:DeleteObjectVersion'],
      [],
    ]);
  // settles a scanned file as validation does: head, first bytes, removal of a rejected object
  if (fns.malwareScanResult)
    grants.push([
      fns.malwareScanResult,
      ['s3:GetObject', 's3:GetObjectVersion', 's3:DeleteObject', 's3:DeleteObjectVersion'],
      [],
    ]);
  for (const [fn, uploads, previews] of grants) {
    r.table.grantReadWriteData(fn);
    grantObjects(r.uploadsBucket, fn, TENANTS_ROOT, uploads);
    grantListBucket(r.uploadsBucket, fn);
    if (previews.length > 0) grantObjects(r.previewBucket, fn, TENANTS_ROOT, previews);
  }
  grantListBucket(r.previewBucket, fns.api);
  // Validation reads GuardDuty's verdict tag where a file reaches its scan (API.md 13.6).
  for (const fn of [
    fns.api,
    fns.processUpload,
    ...(fns.verifyChecksum ? [fns.verifyChecksum] : []),
    ...(fns.malwareScanResult ? [fns.malwareScanResult] : []),
  ])
    grantObjects(r.uploadsBucket, fn, TENANTS_ROOT, SCAN_TAG_READS);
  // Rejected objects are tagged in place, or copied here for inspection (or deleted, without
  // the quarantine).
  if (r.quarantineRejected)
    for (const fn of [
      fns.api,
      fns.processUpload,
      ...(fns.verifyChecksum ? [fns.verifyChecksum] : []),
      ...(fns.malwareScanResult ? [fns.malwareScanResult] : []),
    ]) {
      grantObjects(r.uploadsBucket, fn, QUARANTINE_ROOT, ['s3:PutObject']);
      grantObjects(r.uploadsBucket, fn, TENANTS_ROOT, TAGGING);
    }
  iam.Grant.addToPrincipal({
    grantee: fns.api,
    actions: [
      'secretsmanager:CreateSecret',
      'secretsmanager:TagResource',
      'secretsmanager:PutSecretValue',
      'secretsmanager:GetSecretValue',
      'secretsmanager:DeleteSecret',
    ],
    resourceArns: [r.secretsArn],
  });
  // Files on a tenant's own provider are read with its credentials.
  for (const fn of [
    fns.processUpload,
    fns.renderPreview,
    fns.renderPreviewBrowser,
    ...(fns.verifyChecksum ? [fns.verifyChecksum] : []),
  ])
    iam.Grant.addToPrincipal({
      grantee: fn,
      actions: ['secretsmanager:GetSecretValue'],
      resourceArns: [r.secretsArn],
    });
}

/** The maintenance sweep works across tenants, outside any tenant scope: its own role. */
export function grantMaintenanceData(fn: lambda.IFunction, r: DataResources): void {
  r.table.grantReadWriteData(fn);
  // purge, abandon (abort multipart), validation of uploads whose event was lost
  grantObjects(r.uploadsBucket, fn, TENANTS_ROOT, [
    's3:GetObject',
    's3:GetObjectVersion',
    's3:DeleteObject',
    's3:DeleteObjectVersion',
    's3:AbortMultipartUpload',
  ]);
  grantListBucket(r.uploadsBucket, fn);
  // the sweep revalidates a file whose scan was lost, reading GuardDuty's tag
  grantObjects(r.uploadsBucket, fn, TENANTS_ROOT, SCAN_TAG_READS);
  if (r.quarantineRejected) {
    grantObjects(r.uploadsBucket, fn, QUARANTINE_ROOT, ['s3:PutObject']);
    grantObjects(r.uploadsBucket, fn, TENANTS_ROOT, TAGGING);
  }
  // expired and evicted previews, and those of purged files
  grantObjects(r.previewBucket, fn, TENANTS_ROOT, ['s3:DeleteObject']);
  grantListBucket(r.previewBucket, fn);
  iam.Grant.addToPrincipal({
    grantee: fn,
    actions: ['secretsmanager:GetSecretValue'],
    resourceArns: [r.secretsArn],
  });
}
