import { existsSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { Duration, RemovalPolicy, Size, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as logs from 'aws-cdk-lib/aws-logs';
import { afterAll, describe, expect, it } from 'vitest';
import { readConfig } from '../../../functions/lib/config.js';
import { StowageFunctions, type StowageFunctionsProps } from '../../../infra/constructs/stowage-functions.js';
import { FUNCTION_ENTRIES } from '../../../infra/constructs/stowage-service.js';
import {
  ENTRIES,
  functionFor,
  REPO_ROOT,
  removeTestOutdirs,
  resourcesOf,
  statementsOfRole,
  synthService,
  testApp,
} from './support/synth.js';

afterAll(removeTestOutdirs);

/** Template values as the deployed function sees them: references become stand-in names. */
function resolvedEnvironment(variables: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(variables).map(([name, value]) => [
      name,
      typeof value === 'string' ? value : `resolved-${JSON.stringify(value).replace(/\W+/g, '-')}`,
    ]),
  );
}

describe('functions', () => {
  const { template } = synthService();

  it('every functions/*/handler.ts has a Lambda, and every Lambda entry exists', () => {
    // Prepare
    const handlerFiles = readdirSync(path.join(REPO_ROOT, 'functions'), { withFileTypes: true })
      .filter((d) => d.isDirectory() && existsSync(path.join(REPO_ROOT, 'functions', d.name, 'handler.ts')))
      .map((d) => `functions/${d.name}/handler.ts`)
      .sort();

    // Act / Assess
    expect([...ENTRIES].sort()).toEqual(handlerFiles);
    for (const entry of handlerFiles) expect(() => functionFor(template, entry)).not.toThrow();
  });

  it.each(ENTRIES)(
    '%s runs on nodejs22.x, arm64 (x86_64 for Chromium), with JSON logs in its own log group',
    (entry) => {
      const { resource } = functionFor(template, entry);
      const props = resource.Properties;
      expect(props.Runtime).toBe('nodejs22.x');
      // @sparticuz/chromium's npm package carries an x86_64 Chromium only.
      expect(props.Architectures).toEqual([
        entry === FUNCTION_ENTRIES.renderPreviewBrowser ? 'x86_64' : 'arm64',
      ]);
      expect(props.Handler).toBe('index.handler');
      expect(props.LoggingConfig.LogFormat).toBe('JSON');
      const logGroupId = props.LoggingConfig.LogGroup.Ref;
      expect(resourcesOf(template, 'AWS::Logs::LogGroup')[logGroupId]!.Properties.RetentionInDays).toBe(30);
    },
  );

  it.each(ENTRIES)('%s gets an environment that readConfig accepts, pointing at AWS', (entry) => {
    // Prepare
    const { resource } = functionFor(template, entry);
    const env = resolvedEnvironment(resource.Properties.Environment.Variables);

    // Act
    const config = readConfig({ ...env, AWS_REGION: 'eu-west-1' });

    // Assess
    expect(config.tableName).toBe(env.TABLE_NAME);
    expect(config.uploadsBucket).toBe(env.UPLOADS_BUCKET);
    expect(config.previewBucket).toBe(env.PREVIEW_BUCKET);
    expect(config.previewBucket).not.toBe(config.uploadsBucket);
    expect(config.s3).toMatchObject({ endpoint: null, credentials: null });
    expect(config.dynamo).toEqual({ endpoint: null, credentials: null });
    expect(config.secrets).toEqual({ kind: 'secrets-manager', prefix: 'stowage/Test' });
    expect(config.jwt).toEqual({ tenantClaim: 'custom:tenant_id', rolesClaim: 'cognito:groups' });
    expect(config.limits.maxFileSize).toBe(5 * 1024 ** 3);
    expect(config.quarantineRejected).toBe(true);
  });

  it('passes the props through the environment', () => {
    const { template: t } = synthService({
      jwtIssuer: 'https://issuer.example.com/',
      jwtAudience: ['stowage'],
      maxFileSize: Size.mebibytes(100),
      quarantineRejected: false,
      secretsPrefix: 'acme/stowage',
      logRetention: logs.RetentionDays.ONE_WEEK,
      previewCacheMaxAge: Duration.hours(12),
    });
    const env = resolvedEnvironment(
      functionFor(t, FUNCTION_ENTRIES.api).resource.Properties.Environment.Variables,
    );
    const config = readConfig(env);
    expect(config.limits.maxFileSize).toBe(100 * 1024 ** 2);
    expect(config.quarantineRejected).toBe(false);
    expect(config.secrets).toEqual({ kind: 'secrets-manager', prefix: 'acme/stowage' });
    expect(config.jwt).toEqual({ tenantClaim: 'tenant_id', rolesClaim: 'roles' });
    expect(env.PREVIEW_CACHE_MAX_AGE).toBe(String(12 * 3_600_000));
    for (const group of Object.values(resourcesOf(t, 'AWS::Logs::LogGroup')))
      expect(group.Properties.RetentionInDays).toBe(7);
  });

  it('gives the API less time than API Gateway waits (30 s) and the queue consumer a minute', () => {
    expect(functionFor(template, FUNCTION_ENTRIES.api).resource.Properties.Timeout).toBeLessThan(30);
    expect(functionFor(template, FUNCTION_ENTRIES.processUpload).resource.Properties.Timeout).toBe(60);
  });
});

describe('the preview render function', () => {
  const { stack, template } = synthService();
  const render = functionFor(template, FUNCTION_ENTRIES.renderPreview);
  const env = (entry: string) => functionFor(template, entry).resource.Properties.Environment.Variables;

  it('is sized by the measurements: 1 GiB, 60 s, and reserves no concurrency unless asked', () => {
    expect(render.resource.Properties).toMatchObject({ MemorySize: 1024, Timeout: 60 });
    // A new account has 10 executions in all and refuses any reservation: opt-in.
    expect(render.resource.Properties.ReservedConcurrentExecutions).toBeUndefined();
    const { template: reserved } = synthService({ previewRenderConcurrency: 4 }, 'Reserved');
    expect(
      functionFor(reserved, FUNCTION_ENTRIES.renderPreview).resource.Properties.ReservedConcurrentExecutions,
    ).toBe(4);
    // The hard render limit fits three times into the function's time.
    const config = readConfig({
      ...resolvedEnvironment(env(FUNCTION_ENTRIES.renderPreview)),
      AWS_REGION: 'x',
    });
    expect(config.previews.renderTimeoutMs * 3).toBeLessThanOrEqual(60_000);
  });

  it('draws in a render host from its layer, for Node 22 on arm64', () => {
    const layerId = stack.getLogicalId(stack.service.previewRenderer.layer.node.defaultChild as never);
    expect(render.resource.Properties.Layers).toEqual([{ Ref: layerId }]);
    template.hasResourceProperties('AWS::Lambda::LayerVersion', {
      CompatibleArchitectures: ['arm64'],
      CompatibleRuntimes: ['nodejs22.x'],
    });
    const config = readConfig({
      ...resolvedEnvironment(env(FUNCTION_ENTRIES.renderPreview)),
      AWS_LAMBDA_FUNCTION_NAME: 'r',
    });
    expect(config.previews).toMatchObject({
      hostModule: '/opt/nodejs/render-host.mjs',
      isolation: 'process',
      ahead: 'off',
      onDemand: 'render',
    });
  });

  it('takes asynchronous events without retrying a render that failed, for an hour at most', () => {
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: render.id },
      MaximumRetryAttempts: 0,
      MaximumEventAgeInSeconds: 3600,
    });
  });

  it.each([
    [FUNCTION_ENTRIES.api, 'schedule'],
    [FUNCTION_ENTRIES.processUpload, 'render'],
  ])(
    '%s schedules renders on it, and those Chromium draws on the browser function (on demand: %s)',
    (entry, onDemand) => {
      const variables = env(entry);
      const browser = functionFor(template, FUNCTION_ENTRIES.renderPreviewBrowser);
      expect(variables.RENDER_FUNCTION_NAME).toEqual({ Ref: render.id });
      expect(variables.BROWSER_RENDER_FUNCTION_NAME).toEqual({ Ref: browser.id });
      const config = readConfig({ ...resolvedEnvironment(variables), AWS_LAMBDA_FUNCTION_NAME: 'f' });
      expect(config.previews).toMatchObject({ ahead: 'lambda', onDemand, browser: 'lambda' });
      expect(config.previews.renderFunctionName).toBeTruthy();
      expect(config.previews.browserFunctionName).toBeTruthy();
    },
  );

  it('draws SVG, text and HTML in a second function, on x86_64 with Chromium in its layer', () => {
    // Prepare
    const browser = functionFor(template, FUNCTION_ENTRIES.renderPreviewBrowser).resource.Properties;
    const layerId = stack.getLogicalId(
      stack.service.functions.previewBrowser.layer.node.defaultChild as never,
    );
    // Act
    const config = readConfig({
      ...resolvedEnvironment(browser.Environment.Variables),
      AWS_LAMBDA_FUNCTION_NAME: 'b',
    });
    // Assess: @sparticuz/chromium asks for 1,600 MB at least; its npm package is x86_64 only.
    expect(browser).toMatchObject({ Architectures: ['x86_64'], MemorySize: 2048, Timeout: 60 });
    expect(browser.Layers).toEqual([{ Ref: layerId }]);
    template.hasResourceProperties('AWS::Lambda::LayerVersion', {
      CompatibleArchitectures: ['x86_64'],
      CompatibleRuntimes: ['nodejs22.x'],
    });
    expect(config.previews).toMatchObject({ browser: 'auto', ahead: 'off', onDemand: 'render' });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: functionFor(template, FUNCTION_ENTRIES.renderPreviewBrowser).id },
      MaximumRetryAttempts: 0,
      MaximumEventAgeInSeconds: 3600,
    });
  });

  it('the maintenance sweep schedules nothing (it runs in Lambda, where rendering ahead defaults off)', () => {
    const config = readConfig({
      ...resolvedEnvironment(env(FUNCTION_ENTRIES.maintenance)),
      AWS_LAMBDA_FUNCTION_NAME: 'm',
    });
    expect(config.previews.ahead).toBe('off');
  });

  it('follows the memory and concurrency props', () => {
    const { template: t } = synthService(
      { previewRenderMemorySize: 2048, previewRenderConcurrency: 3 },
      'Sized',
    );
    expect(functionFor(t, FUNCTION_ENTRIES.renderPreview).resource.Properties).toMatchObject({
      MemorySize: 2048,
      ReservedConcurrentExecutions: 3,
    });
  });
});

describe('adding a Lambda (StowageFunctions)', () => {
  /** The functions construct alone, in a stack of its own. */
  function functionsStack(props: Partial<StowageFunctionsProps> = {}) {
    const stack = new Stack(testApp(), `Fns${Math.random().toString(36).slice(2, 8)}`);
    const fns = new StowageFunctions(stack, 'Functions', {
      environment: { TABLE_NAME: 't', UPLOADS_BUCKET: 'u' },
      memorySize: 512,
      removalPolicy: RemovalPolicy.DESTROY,
      logRetention: logs.RetentionDays.ONE_WEEK,
      ...props,
    });
    return { stack, fns };
  }

  it('addFunction gives a new entry point its own role, log group, JSON logs and the shared settings', () => {
    const { stack, fns } = functionsStack();
    fns.addFunction('Extra', FUNCTION_ENTRIES.maintenance, { timeout: Duration.minutes(2) });
    const t = Template.fromStack(stack);
    const extra = Object.values(resourcesOf(t, 'AWS::Lambda::Function')).find((f) =>
      String(f.Properties.Description).startsWith('Stowage Extra '),
    )!.Properties;
    expect(extra).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Timeout: 120,
      MemorySize: 512,
      Environment: { Variables: { TABLE_NAME: 't', UPLOADS_BUCKET: 'u' } },
      LoggingConfig: { LogFormat: 'JSON' },
    });
    const roles = Object.values(resourcesOf(t, 'AWS::IAM::Role')).map((r) => r.Properties.Description);
    expect(roles).toContain('Stowage Extra function');
  });

  it('wires the checksum job once its handler exists: 15 minutes, asynchronous, named to its callers', () => {
    // Prepare: any existing entry stands in for functions/verify-checksum/handler.ts.
    const { stack, fns } = functionsStack({ checksumEntry: FUNCTION_ENTRIES.maintenance });
    const t = Template.fromStack(stack);
    const id = stack.getLogicalId(fns.verifyChecksum!.node.defaultChild as never);
    const fnOf = (f: typeof fns.api) =>
      resourcesOf(t, 'AWS::Lambda::Function')[stack.getLogicalId(f.node.defaultChild as never)]!;

    // Assess
    expect(fnOf(fns.verifyChecksum!).Properties.Timeout).toBe(900);
    t.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: id },
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: 21600,
    });
    // The sweep re-verifies too: it hands the hash over rather than reading inline in 5 minutes.
    for (const caller of [fns.api, fns.processUpload, fns.maintenance]) {
      expect(fnOf(caller).Properties.Environment.Variables.CHECKSUM_FUNCTION_NAME).toEqual({ Ref: id });
      const roleId = fnOf(caller).Properties.Role['Fn::GetAtt'][0];
      const invokable = statementsOfRole(t, roleId)
        .filter((st) => st.Action === 'lambda:InvokeFunction')
        .flatMap((st) => [st.Resource].flat());
      expect(invokable).toContainEqual({ 'Fn::GetAtt': [id, 'Arn'] });
    }
    // It works in a tenant scope like the functions that call it, and is watched like them.
    expect(fns.tenantScoped).toContain(fns.verifyChecksum);
    expect(Object.keys(fns.byName)).toContain('VerifyChecksum');
  });
});
