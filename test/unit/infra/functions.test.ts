import { existsSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { Duration, Size } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import { afterAll, describe, expect, it } from 'vitest';
import { readConfig } from '../../../functions/lib/config.js';
import { FUNCTION_ENTRIES } from '../../../infra/constructs/stowage-service.js';
import {
  ENTRIES,
  functionFor,
  REPO_ROOT,
  removeTestOutdirs,
  resourcesOf,
  synthService,
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

  it.each(ENTRIES)('%s runs on nodejs22.x, arm64, with JSON logs in its own log group', (entry) => {
    const { resource } = functionFor(template, entry);
    const props = resource.Properties;
    expect(props.Runtime).toBe('nodejs22.x');
    expect(props.Architectures).toEqual(['arm64']);
    expect(props.Handler).toBe('index.handler');
    expect(props.LoggingConfig.LogFormat).toBe('JSON');
    const logGroupId = props.LoggingConfig.LogGroup.Ref;
    expect(resourcesOf(template, 'AWS::Logs::LogGroup')[logGroupId]!.Properties.RetentionInDays).toBe(30);
  });

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
    expect(config.s3).toMatchObject({ endpoint: null, credentials: null, embedded: false });
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
