import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import { afterAll, describe, expect, it } from 'vitest';
import { SCAN_RESULT_DETAIL_TYPE as HANDLED_DETAIL_TYPE } from '../../../functions/malware-scan-result/handler.js';
import { SCAN_RESULT_DETAIL_TYPE } from '../../../infra/constructs/malware-protection.js';
import { StowageService } from '../../../infra/index.js';
import { REPO_ROOT, resourcesOf } from './support/synth.js';

// What @stowage/cdk promises a consumer beyond the template: a README that documents every
// prop, and an app with none of this repository's cdk.json (test/integration/package-cdk.test.ts
// installs the packed construct itself).

const outdirs: string[] = [];
afterAll(() => {
  for (const dir of outdirs) rmSync(dir, { recursive: true, force: true });
});

describe('@stowage/cdk', () => {
  it('the README table lists every prop of StowageServiceProps', () => {
    // Prepare
    const source = readFileSync(path.join(REPO_ROOT, 'infra/constructs/stowage-service-props.ts'), 'utf8');
    const props = [...source.matchAll(/^\s*readonly (\w+)\?:/gm)].map((m) => m[1]!);
    const readme = readFileSync(path.join(REPO_ROOT, 'infra/README.md'), 'utf8');

    // Act
    const rows = [...readme.matchAll(/^\| `(\w+)` \| ([^|]+) \|/gm)].map((m) => ({
      prop: m[1]!,
      default: m[2]!.trim(),
    }));

    // Assess
    expect(props.length).toBeGreaterThan(30);
    expect(rows.map((r) => r.prop).sort()).toEqual([...props].sort());
    for (const row of rows) expect(row.default, row.prop).not.toBe('');
  });

  it('routes the scan results the malware-scan-result handler accepts', () => {
    expect(SCAN_RESULT_DETAIL_TYPE).toBe(HANDLED_DETAIL_TYPE);
  });

  describe('in an app without this repository’s feature flags, with a user pool imported by ARN', () => {
    const outdir = mkdtempSync(path.join(tmpdir(), 'cdk.out-stowage-package-'));
    outdirs.push(outdir);
    // A new App knows no cdk.json: CDK's default feature flags (bundling skipped here).
    const app = new App({ outdir, context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Consumer', { env: { account: '111111111111', region: 'us-east-1' } });
    const arn = 'arn:aws:cognito-idp:eu-central-1:111111111111:userpool/eu-central-1_Team12345';
    new StowageService(stack, 'Files', {
      existingUserPool: cognito.UserPool.fromUserPoolArn(stack, 'Pool', arn),
    });
    const template = Template.fromStack(stack);

    it('delivers S3 access logs through the bucket policy, with ACLs still disabled', () => {
      const buckets = Object.values(resourcesOf(template, 'AWS::S3::Bucket'));
      expect(buckets.map((b) => b.Properties.AccessControl)).toEqual(buckets.map(() => undefined));
      const statements = Object.values(resourcesOf(template, 'AWS::S3::BucketPolicy')).flatMap(
        (p) => p.Properties.PolicyDocument.Statement,
      );
      expect(statements).toContainEqual(
        expect.objectContaining({ Principal: { Service: 'logging.s3.amazonaws.com' }, Effect: 'Allow' }),
      );
    });

    it('trusts the tokens of the pool’s own region', () => {
      template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
        UserPoolId: 'eu-central-1_Team12345',
      });
      template.resourceCountIs('AWS::Cognito::UserPool', 0);
      const [authorizer] = Object.values(resourcesOf(template, 'AWS::ApiGatewayV2::Authorizer'));
      // The stack is in us-east-1: a pool there would issue other tokens.
      expect(authorizer!.Properties.JwtConfiguration.Issuer).toEqual({
        'Fn::Join': [
          '',
          ['https://cognito-idp.eu-central-1.', { Ref: 'AWS::URLSuffix' }, '/eu-central-1_Team12345'],
        ],
      });
    });
  });
});
