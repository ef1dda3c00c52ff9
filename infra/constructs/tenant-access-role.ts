import { Duration } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { tenantAccessPolicy } from '../../shared/adapters/tenant-scope/tenant-access-policy.js';
import { TENANT_SESSION_TAG } from '../../shared/adapters/tenant-scope/tenant-credentials.js';
import { objectKeys } from '../../shared/domain/keys.js';

/**
 * The tenant a tenant-scoped STS session was opened for: the `tenant` session tag that
 * shared/adapters/tenant-scope/tenant-credentials.ts sets, as an IAM policy variable.
 */
// biome-ignore lint/suspicious/noTemplateCurlyInString: IAM's own variable syntax, not a template.
export const TENANT_TAG_VARIABLE = '${aws:PrincipalTag/tenant}';

export interface TenantAccessRoleProps {
  /** The functions that open tenant sessions (AssumeRole with the `tenant` tag). */
  readonly callers: lambda.IFunction[];
  readonly table: dynamodb.ITable;
  readonly uploadsBucket: s3.IBucket;
  readonly previewBucket: s3.IBucket;
  /** `arn:{partition}:secretsmanager:{region}:{account}:secret:{secretsPrefix}`. */
  readonly secretsArnPrefix: string;
  /** Customer managed keys of the data (SSE-KMS asks KMS with the session's rights). */
  readonly dataKeys: kms.IKey[];
  /** Whether sessions reach their tenant's `quarantine/` prefix. */
  readonly quarantine: boolean;
}

/**
 * The role of tenant-scoped sessions: assumable (with the `tenant` session tag) only by the
 * functions that work in a tenant scope, and holding, for the tenant it is tagged with, exactly
 * what `tenantAccessPolicy` allows: the same module writes both, with the tenant id replaced by
 * the tag variable. Sessions carry no session policy: a request stays a few hundred bytes for
 * any tenant id and resource names, and what a session reaches is this role's policy read with
 * its own tag.
 */
export class TenantAccessRole extends Construct {
  public readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: TenantAccessRoleProps) {
    super(scope, id);
    const trusted = props.callers.map((fn) => (fn.role as iam.IRole).roleArn);
    this.role = new iam.Role(this, 'Role', {
      description: 'Stowage: the data of one tenant, in STS sessions tagged with that tenant',
      // Role chaining from a Lambda role allows one hour at most.
      maxSessionDuration: Duration.hours(1),
      assumedBy: new iam.PrincipalWithConditions(
        // sts:TagSession as well: the tag is what the policy below is keyed by.
        new iam.SessionTagsPrincipal(
          new iam.CompositePrincipal(...trusted.map((arn) => new iam.ArnPrincipal(arn))),
        ),
        { Null: { [`aws:RequestTag/${TENANT_SESSION_TAG}`]: 'false' } },
      ),
    });
    const policy = tenantAccessPolicy(TENANT_TAG_VARIABLE, {
      tableArn: props.table.tableArn,
      uploadsBucketArn: props.uploadsBucket.bucketArn,
      previewBucketArn: props.previewBucket.bucketArn,
      secretsArnPrefix: props.secretsArnPrefix,
      kmsKeyArns: props.dataKeys.map((k) => k.keyArn),
    });
    // Without the quarantine, nothing of a session reaches under quarantine/.
    const quarantined = (value: string) => value.includes(objectKeys.quarantinePrefix(TENANT_TAG_VARIABLE));
    for (const statement of policy.Statement) {
      const listing = statement.Condition?.StringLike?.['s3:prefix'];
      this.role.addToPolicy(
        iam.PolicyStatement.fromJson(
          props.quarantine
            ? statement
            : {
                ...statement,
                Resource: statement.Resource.filter((r) => !quarantined(r)),
                ...(listing
                  ? { Condition: { StringLike: { 's3:prefix': listing.filter((p) => !quarantined(p)) } } }
                  : {}),
              },
        ),
      );
    }
    for (const fn of props.callers)
      iam.Grant.addToPrincipal({
        grantee: fn,
        actions: ['sts:AssumeRole', 'sts:TagSession'],
        resourceArns: [this.role.roleArn],
      });
  }
}
