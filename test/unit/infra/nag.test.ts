import { Stack, Validations } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { afterAll, describe, expect, it } from 'vitest';
import { StowageStack } from '../../../infra/stacks/stowage-stack.js';
import { addStageStacks } from '../../../infra/stages.js';
import { removeTestOutdirs, testApp } from './support/synth.js';

afterAll(removeTestOutdirs);

/** Every stage of cdk.json, and the props variants that change which resources exist. */
function appUnderReview() {
  const app = testApp({ cfnValidation: true });
  addStageStacks(app);
  new StowageStack(app, 'Variant-Oidc-Kms-Tracing', {
    service: {
      jwtIssuer: 'https://issuer.example.com/',
      jwtAudience: ['stowage'],
      encryption: 'KMS',
      tracing: lambda.Tracing.ACTIVE,
      quarantineRejected: false,
      malwareProtection: true,
    },
  });
  new StowageStack(app, 'Variant-DirectGrants', {
    service: { tenantIsolation: false, malwareProtection: true },
  });
  return app;
}

type Violation = { ruleName: string; violatingResources: { constructPath: string }[] };
const describeViolations = (violations: Violation[]) =>
  violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}`));

/** Acknowledgements recorded anywhere in the tree: construct path, rule id, reason. */
function acknowledgements(root: IConstruct) {
  return root.node.findAll().flatMap((c) =>
    c.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) =>
        Object.entries(m.data as Record<string, string>).map(([id, reason]) => ({
          path: c.node.path,
          id: id.replace(/^annotation::/i, ''),
          reason,
        })),
      ),
  );
}

describe('cdk-nag AWS Solutions checks', () => {
  const app = appUnderReview();

  it('find nothing unacknowledged in any stage or variant', () => {
    const report = new AwsSolutionsChecks().validateScope(app);
    expect(describeViolations(report.violations as Violation[])).toEqual([]);
  });

  it('every acknowledgement has a one-line reason', () => {
    const acks = acknowledgements(app);
    expect(acks.length).toBeGreaterThan(0);
    for (const ack of acks) {
      expect(ack.reason.trim().length, `${ack.id} at ${ack.path}`).toBeGreaterThan(20);
      expect(ack.reason, `${ack.id} at ${ack.path}`).not.toMatch(/\n/);
    }
  });

  it('no acknowledgement is stale: each one excuses a finding that would otherwise fail', () => {
    // Prepare: the same pack, blind to acknowledgements.
    const blind = new AwsSolutionsChecks() as unknown as { isAcknowledged: () => boolean };
    blind.isAcknowledged = () => false;
    const raw = describeViolations(
      (blind as unknown as AwsSolutionsChecks).validateScope(app).violations as Violation[],
    );

    // Act / Assess
    for (const ack of acknowledgements(app)) {
      const excused = raw.filter((r) => r.startsWith(`${ack.id} at ${ack.path}`));
      expect(excused.length, `${ack.id} at ${ack.path}`).toBeGreaterThan(0);
    }
  });

  it('run as a validation plugin, as in infra/bin/app.ts, and synthesis succeeds', () => {
    // Prepare: the CloudFormation-validated app, with the pack registered like the CDK app does.
    const plugged = appUnderReview();
    Validations.of(plugged).addPlugins(new AwsSolutionsChecks(plugged));

    // Act
    const assembly = plugged.synth();

    // Assess
    expect(assembly.stacks.map((s) => s.stackName).sort()).toEqual([
      'Stowage-dev',
      'Stowage-prod',
      'Variant-DirectGrants',
      'Variant-Oidc-Kms-Tracing',
    ]);
  }, 60_000);

  it('fail synthesis on an unacknowledged finding', () => {
    const app = testApp();
    new s3.Bucket(new Stack(app, 'Careless'), 'Bucket');
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).toThrow(/AwsSolutions-S1/);
  });
});
