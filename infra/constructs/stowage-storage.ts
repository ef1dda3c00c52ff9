import { Annotations, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { objectKeys } from '../../shared/domain/keys.js';
import { previewLifecycleDays } from '../../shared/domain/preview.js';
import { QUARANTINE_TAG } from '../../shared/domain/quarantine-tag.js';

export interface StowageStorageProps {
  readonly removalPolicy: RemovalPolicy;
  /** @default 'S3_MANAGED' */
  readonly encryption?: 'S3_MANAGED' | 'KMS';
  readonly allowedOrigins: string[];
  readonly previewCacheMaxAge: Duration;
  /** @default Duration.days(30) */
  readonly quarantineRetention?: Duration;
  /** @default Duration.days(7) */
  readonly noncurrentVersionRetention?: Duration;
  /** @default Duration.days(90) */
  readonly accessLogRetention?: Duration;
  /** @default - a bucket is created */
  readonly existingUploadsBucket?: s3.IBucket;
  /** @default - none */
  readonly uploadsBucketProps?: Partial<s3.BucketProps>;
  /** @default - nobody reads quarantined objects */
  readonly quarantineInspectionRole?: iam.IRole;
}

/** The deny statement's Sid: tests and operators find it by this name. */
export const QUARANTINE_DENY_SID = 'DenyReadsOfQuarantinedObjects';

/**
 * The buckets: uploads (versioned: downloads read the validated version; quarantine by tag),
 * the preview cache, their access logs, and the customer managed key when asked for.
 */
export class StowageStorage extends Construct {
  public readonly encryptionKey?: kms.Key;
  public readonly accessLogBucket: s3.Bucket;
  public readonly uploadsBucket: s3.IBucket;
  public readonly previewBucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: StowageStorageProps) {
    super(scope, id);
    const destroy = props.removalPolicy === RemovalPolicy.DESTROY;
    if (props.encryption === 'KMS') {
      this.encryptionKey = new kms.Key(this, 'Key', {
        description: 'Stowage: uploads, previews and metadata',
        enableKeyRotation: true,
        removalPolicy: props.removalPolicy,
      });
    }
    const bucketDefaults = {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: props.removalPolicy,
      autoDeleteObjects: destroy,
    } satisfies s3.BucketProps;
    const dataEncryption: Pick<s3.BucketProps, 'encryption' | 'encryptionKey' | 'bucketKeyEnabled'> = this
      .encryptionKey
      ? { encryption: s3.BucketEncryption.KMS, encryptionKey: this.encryptionKey, bucketKeyEnabled: true }
      : { encryption: s3.BucketEncryption.S3_MANAGED };

    this.accessLogBucket = new s3.Bucket(this, 'AccessLogs', {
      ...bucketDefaults,
      // S3 server access logging delivers only to SSE-S3 buckets.
      encryption: s3.BucketEncryption.S3_MANAGED,
      lifecycleRules: [
        { id: 'expire-access-logs', expiration: props.accessLogRetention ?? Duration.days(90) },
      ],
    });

    if (props.uploadsBucketProps?.versioned === false)
      throw new Error(
        'StowageService: the uploads bucket must be versioned (downloads read the validated version); drop uploadsBucketProps.versioned.',
      );
    this.uploadsBucket =
      props.existingUploadsBucket ??
      new s3.Bucket(this, 'Uploads', {
        ...bucketDefaults,
        ...dataEncryption,
        versioned: true,
        serverAccessLogsBucket: this.accessLogBucket,
        serverAccessLogsPrefix: 'uploads/',
        cors: [
          {
            // Browsers PUT or POST the bytes with presigned requests, PUT multipart parts and read
            // each part's ETag to complete the upload.
            allowedMethods: [
              s3.HttpMethods.PUT,
              s3.HttpMethods.POST,
              s3.HttpMethods.GET,
              s3.HttpMethods.HEAD,
            ],
            allowedOrigins: props.allowedOrigins,
            allowedHeaders: ['*'],
            exposedHeaders: ['ETag'],
            maxAge: 3600,
          },
        ],
        lifecycleRules: [
          { id: 'abort-incomplete-multipart-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
          {
            id: 'expire-noncurrent-versions',
            noncurrentVersionExpiration: props.noncurrentVersionRetention ?? Duration.days(7),
            expiredObjectDeleteMarker: true,
          },
          {
            id: 'expire-quarantine',
            prefix: objectKeys.quarantineRoot,
            expiration: props.quarantineRetention ?? Duration.days(30),
          },
        ],
        ...props.uploadsBucketProps,
      });
    if (props.existingUploadsBucket)
      Annotations.of(this).addWarningV2(
        'stowage:existing-uploads-bucket',
        'existingUploadsBucket: it must be versioned and allow browser PUT/POST/GET with the ETag header exposed (CORS); lifecycle rules are yours.',
      );
    this.denyReadsOfQuarantined(props.quarantineInspectionRole);

    this.previewBucket = new s3.Bucket(this, 'PreviewCache', {
      ...bucketDefaults,
      ...dataEncryption,
      // Renders can be redrawn from their source file: no versions to keep.
      versioned: false,
      serverAccessLogsBucket: this.accessLogBucket,
      serverAccessLogsPrefix: 'previews/',
      cors: [
        {
          allowedMethods: [s3.HttpMethods.GET, s3.HttpMethods.HEAD],
          allowedOrigins: props.allowedOrigins,
          allowedHeaders: ['*'],
          maxAge: 3600,
        },
      ],
      lifecycleRules: [
        {
          id: 'expire-previews',
          expiration: Duration.days(previewLifecycleDays(props.previewCacheMaxAge.toMilliseconds())),
        },
        { id: 'abort-incomplete-multipart-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
    });
  }

  /** Every customer managed key a tenant session needs to read and write the data. */
  public get dataKeys(): kms.IKey[] {
    const keys = [this.encryptionKey, this.uploadsBucket.encryptionKey].filter((k): k is kms.IKey => !!k);
    return [...new Set(keys)];
  }

  /**
   * Quarantine in place, for any size: a rejected object is tagged, and no one (this
   * deployment's own roles and tenant sessions included) reads a tagged object or any version of
   * it, except the inspection role if one is given.
   */
  private denyReadsOfQuarantined(inspectionRole: iam.IRole | undefined): void {
    const { statementAdded } = this.uploadsBucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: QUARANTINE_DENY_SID,
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:GetObject', 's3:GetObjectVersion'],
        resources: [this.uploadsBucket.arnForObjects('*')],
        conditions: {
          StringEquals: { [`s3:ExistingObjectTag/${QUARANTINE_TAG.key}`]: QUARANTINE_TAG.value },
          ...(inspectionRole ? { ArnNotEquals: { 'aws:PrincipalArn': inspectionRole.roleArn } } : {}),
        },
      }),
    );
    if (!statementAdded)
      Annotations.of(this).addWarningV2(
        'stowage:quarantine-policy',
        `The uploads bucket's policy cannot be changed here: add the ${QUARANTINE_DENY_SID} statement (deny s3:GetObject and s3:GetObjectVersion on objects tagged ${QUARANTINE_TAG.key}=${QUARANTINE_TAG.value}) yourself.`,
      );
  }
}
