import { AssumeRoleCommand, type AssumeRoleCommandInput, STSClient } from '@aws-sdk/client-sts';
import type { APIGatewayProxyEventV2WithJWTAuthorizer, Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { makeApiHandler } from '../../functions/api/handler.js';
import { newTenant } from '../support/api.js';
import { CSV } from '../support/samples.js';
import { composeSecondApp, type SecondApp } from '../support/second-app.js';

/**
 * The second wall, wired as in AWS (TENANT_ROLE_ARN set), against the local servers. There is
 * no STS here, so STS alone is mocked: it hands out sessions whose keys the embedded store and
 * DynamoDB Local accept, with a token of our own, so the test can see which session signed what.
 */
const sts = mockClient(STSClient);
const sessions: { tenant: string; input: AssumeRoleCommandInput }[] = [];
let second: SecondApp;
let api: ReturnType<typeof makeApiHandler>;

beforeAll(async () => {
  const stack = inject('stackConfig');
  sts.on(AssumeRoleCommand).callsFake(async (input) => {
    const tenant = input.Tags?.find((tag: { Key?: string }) => tag.Key === 'tenant')?.Value as string;
    sessions.push({ tenant, input });
    return {
      Credentials: {
        AccessKeyId: stack.s3AccessKeyId,
        SecretAccessKey: stack.s3SecretAccessKey,
        SessionToken: `session-for-${tenant}`,
        Expiration: new Date(Date.now() + 3_600_000),
      },
      PackedPolicySize: 3,
    };
  });
  second = await composeSecondApp({
    label: 'walled',
    env: {
      TENANT_ROLE_ARN: 'arn:aws:iam::111122223333:role/stowage-tenant-access',
      TABLE_ARN: 'arn:aws:dynamodb:us-east-1:111122223333:table/stowage',
      FILESTORE_UPLOAD_URL_TTL_SECONDS: '900',
      FILESTORE_PART_URL_TTL_SECONDS: '900',
    },
  });
  api = makeApiHandler({
    services: second.app.services,
    claimNames: second.app.config.jwt,
    logger: second.app.logger,
  });
});

afterAll(() => sts.restore());

async function call(tenant: string, method: string, path: string, body?: unknown) {
  const event = {
    version: '2.0',
    rawPath: path,
    rawQueryString: '',
    headers: {},
    body: body === undefined ? undefined : JSON.stringify(body),
    isBase64Encoded: false,
    requestContext: {
      http: { method, path },
      authorizer: { jwt: { claims: { sub: 'alice', tenant_id: tenant, roles: '[admin]' }, scopes: [] } },
    },
  } as unknown as APIGatewayProxyEventV2WithJWTAuthorizer;
  const result = await api(event, {} as Context);
  return { status: result.statusCode, body: result.body ? JSON.parse(result.body) : undefined };
}

describe('per-tenant credentials (the second wall)', () => {
  it('signs uploads and downloads with a session narrowed to the caller’s tenant', async () => {
    const acme = newTenant('acme');
    const bucket = await call(acme, 'POST', '/v1/buckets', { name: 'Walled' });
    expect(bucket.status).toBe(201);
    const init = await call(acme, 'POST', `/v1/buckets/${bucket.body.id}/uploads`, {
      filename: 'rows.csv',
      contentType: 'text/csv',
      size: CSV.length,
    });
    expect(init.status).toBe(201);
    const url = new URL(init.body.upload.url);
    expect(url.searchParams.get('X-Amz-Security-Token')).toBe(`session-for-${acme}`);

    // the session is scoped by its tenant tag alone: no inline session policy (STS limits)
    const session = sessions.find((s) => s.tenant === acme);
    expect(session?.input.Tags).toEqual([{ Key: 'tenant', Value: acme }]);
    expect(session?.input.Policy).toBeUndefined();
    expect(session?.input.PolicyArns).toBeUndefined();

    // the whole flow still works through the scoped clients
    const put = await fetch(init.body.upload.url, {
      method: 'PUT',
      headers: init.body.upload.headers,
      body: new Uint8Array(CSV),
    });
    expect(put.status).toBe(200);
    const done = await call(acme, 'POST', `/v1/files/${init.body.file.id}/complete`, {});
    expect(done.body.status).toBe('active');
    const download = await call(acme, 'GET', `/v1/files/${init.body.file.id}/download`);
    expect(new URL(download.body.url).searchParams.get('X-Amz-Security-Token')).toBe(`session-for-${acme}`);
  });

  it('gives each tenant its own session, and reuses it while it is fresh', async () => {
    const before = sts.commandCalls(AssumeRoleCommand).length;
    const [a, b] = [newTenant('a'), newTenant('b')];
    for (let i = 0; i < 3; i++) {
      expect((await call(a, 'GET', '/v1/quota')).status).toBe(200);
      expect((await call(b, 'GET', '/v1/quota')).status).toBe(200);
    }
    const calls = sts.commandCalls(AssumeRoleCommand).slice(before);
    expect(calls.map((c) => c.args[0].input.Tags?.[0]?.Value).sort()).toEqual([a, b].sort());
    expect(
      calls.every((c) => c.args[0].input.RoleArn === 'arn:aws:iam::111122223333:role/stowage-tenant-access'),
    ).toBe(true);
  });

  it('serves a tenant with the longest id the API accepts, in a session request inside STS’s limits', async () => {
    // Prepare: a 64-character tenant id (the API's limit), unique per run.
    const longest = `${newTenant('longest')}-${'x'.repeat(64)}`.slice(0, 64);
    expect(longest).toHaveLength(64);

    // Act: a request that writes (bucket) and reads (quota) through the scoped clients.
    const bucket = await call(longest, 'POST', '/v1/buckets', { name: 'Longest' });
    const quota = await call(longest, 'GET', '/v1/quota');

    // Assess
    expect(bucket.status).toBe(201);
    expect(quota.status).toBe(200);
    const session = sessions.find((s) => s.tenant === longest);
    expect(session).toBeDefined();
    const input = session!.input;
    expect(input.RoleSessionName!.length).toBeLessThanOrEqual(64);
    expect(input.RoleSessionName).toMatch(/^[\w+=,.@-]+$/);
    expect(input.Tags).toEqual([{ Key: 'tenant', Value: longest }]);
    expect(input.Policy).toBeUndefined();
    expect(input.DurationSeconds).toBeLessThanOrEqual(3600);
    // The whole request is small whatever the resource names: tags are the only packed part.
    expect(JSON.stringify(input).length).toBeLessThan(512);
  });
});
