import { afterAll, describe, expect, it } from 'vitest';
import { addStageStacks, readStages, STAGES_CONTEXT_KEY, serviceProps } from '../../../infra/stages.js';
import { CDK_JSON_CONTEXT, removeTestOutdirs, testApp } from './support/synth.js';

afterAll(removeTestOutdirs);

const stages = CDK_JSON_CONTEXT[STAGES_CONTEXT_KEY] as Record<string, Record<string, unknown>>;

describe('stages from cdk.json', () => {
  it('define dev and prod', () => {
    expect(Object.keys(readStages(stages))).toEqual(['dev', 'prod']);
  });

  it('build one stack per stage, or only the one named with -c stage=', () => {
    expect(addStageStacks(testApp()).map((s) => s.stackName)).toEqual(['Stowage-dev', 'Stowage-prod']);
    expect(addStageStacks(testApp({ context: { stage: 'prod' } })).map((s) => s.stackName)).toEqual([
      'Stowage-prod',
    ]);
  });

  it('keep prod data and let dev be torn down', () => {
    const [dev, prod] = addStageStacks(testApp());
    expect(dev!.service.uploadsBucket.node.defaultChild).toMatchObject({
      cfnOptions: { deletionPolicy: 'Delete' },
    });
    expect(prod!.service.uploadsBucket.node.defaultChild).toMatchObject({
      cfnOptions: { deletionPolicy: 'Retain' },
    });
  });

  it('pass tenant isolation and the render concurrency through to the construct', () => {
    expect(serviceProps({ tenantIsolation: false, previewRenderConcurrency: 4 })).toMatchObject({
      tenantIsolation: false,
      previewRenderConcurrency: 4,
    });
    expect(serviceProps({})).toMatchObject({
      tenantIsolation: undefined,
      previewRenderConcurrency: undefined,
    });
  });

  it('pass the app client’s OAuth callback and sign-out URLs through to the construct', () => {
    const urls = { callbackUrls: ['https://files.acme.test/cb'], logoutUrls: ['https://files.acme.test/'] };
    expect(readStages({ web: urls }).web).toEqual(urls);
    expect(serviceProps(urls)).toMatchObject(urls);
  });

  it('refuse an unknown stage, naming the ones that exist', () => {
    expect(() => addStageStacks(testApp({ context: { stage: 'qa' } }))).toThrow(
      'Unknown stage "qa"; cdk.json defines: dev, prod.',
    );
  });

  it.each([
    [{ dev: { logRetention: 7 } }, 'Stage "dev": unknown setting "logRetention".'],
    [{ dev: { logRetentionDays: 8 } }, 'Stage "dev": logRetentionDays 8 is not a CloudWatch retention.'],
    [{ dev: { removalPolicy: 'delete' } }, 'Stage "dev": removalPolicy must be "retain" or "destroy".'],
    [{ 'dev stage': {} }, 'Stage name "dev stage" must be letters, digits and hyphens (it names the stack).'],
    [['dev'], `cdk.json context "${STAGES_CONTEXT_KEY}" must map stage names to settings.`],
  ])('refuse a mistyped setting: %j', (context, message) => {
    expect(() => readStages(context)).toThrow(message);
  });
});
