import { objectKeys, tableKeys } from '../../domain/keys.js';

/** The resources one deployment's data lives in. */
export interface TenantPolicyResources {
  tableArn: string;
  uploadsBucketArn: string;
  previewBucketArn: string;
  /** `arn:aws:secretsmanager:{region}:{account}:secret:{prefix}`: provider credentials. */
  secretsArnPrefix?: string;
  /**
   * The customer managed keys of the buckets and the table, when they use SSE-KMS: S3 asks KMS
   * with the caller's permissions, so without them every read and write of a tenant session is
   * denied.
   */
  kmsKeyArns?: string[];
}

export interface PolicyDocument {
  Version: '2012-10-17';
  Statement: {
    Sid: string;
    Effect: 'Allow';
    Action: string[];
    Resource: string[];
    Condition?: Record<string, Record<string, string[]>>;
  }[];
}

const OBJECT_ACTIONS = [
  's3:GetObject',
  // reads and deletes name the validated version (VersionId): separate actions in IAM
  's3:GetObjectVersion',
  's3:PutObject',
  's3:DeleteObject',
  's3:DeleteObjectVersion',
  's3:AbortMultipartUpload',
  's3:ListMultipartUploadParts',
  // quarantine by tag (the bucket policy denies reads of objects tagged stowage-quarantine=true)
  's3:PutObjectTagging',
  's3:PutObjectVersionTagging',
  // GuardDuty's verdict, read from its GuardDutyMalwareScanStatus tag (API.md 13.6)
  's3:GetObjectTagging',
  's3:GetObjectVersionTagging',
];
const ITEM_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:ConditionCheckItem',
];

/**
 * What one tenant reaches: its objects under `tenants/{t}/` (and its quarantine), and DynamoDB
 * items whose partition key is `T#{t}` or starts with `T#{t}#` (IAM `dynamodb:LeadingKeys`).
 * The tenant role's own policy is this document with `${aws:PrincipalTag/tenant}` for the tenant
 * (infra/constructs/tenant-access-role.ts), so a session tagged with a tenant reaches that
 * tenant only, whatever the code asks, and no session policy is sent at all (STS limits). Called
 * with a real id, it tells what such a session reaches (the tests). The prefixes come from
 * `keys.ts`, the one place keys are built.
 */
export function tenantAccessPolicy(tenantId: string, r: TenantPolicyResources): PolicyDocument {
  const prefix = objectKeys.tenantPrefix(tenantId);
  const quarantine = objectKeys.quarantinePrefix(tenantId);
  const pk = tableKeys.tenantPk(tenantId);
  const statements: PolicyDocument['Statement'] = [
    {
      Sid: 'TenantObjects',
      Effect: 'Allow',
      Action: OBJECT_ACTIONS,
      Resource: [
        `${r.uploadsBucketArn}/${prefix}*`,
        `${r.uploadsBucketArn}/${quarantine}*`,
        `${r.previewBucketArn}/${prefix}*`,
      ],
    },
    {
      // HEAD of a missing key answers 404 (not 403) only with ListBucket; limited to the prefix.
      Sid: 'TenantListing',
      Effect: 'Allow',
      Action: ['s3:ListBucket'],
      Resource: [r.uploadsBucketArn, r.previewBucketArn],
      Condition: { StringLike: { 's3:prefix': [`${prefix}*`, `${quarantine}*`] } },
    },
    {
      Sid: 'TenantItems',
      Effect: 'Allow',
      Action: ITEM_ACTIONS,
      Resource: [r.tableArn, `${r.tableArn}/index/*`],
      Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [pk, `${pk}#*`] } },
    },
  ];
  if (r.secretsArnPrefix)
    statements.push({
      Sid: 'TenantSecrets',
      Effect: 'Allow',
      Action: [
        'secretsmanager:GetSecretValue',
        'secretsmanager:CreateSecret',
        'secretsmanager:PutSecretValue',
        'secretsmanager:DeleteSecret',
        'secretsmanager:TagResource',
      ],
      Resource: [`${r.secretsArnPrefix}/${tenantId}/*`],
    });
  if (r.kmsKeyArns && r.kmsKeyArns.length > 0)
    statements.push({
      // The key only wraps data keys: which objects a session reaches is the S3 statements' say.
      Sid: 'DataKey',
      Effect: 'Allow',
      Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
      Resource: r.kmsKeyArns,
    });
  return { Version: '2012-10-17', Statement: statements };
}
