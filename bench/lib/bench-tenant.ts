import { randomBytes, randomUUID } from 'node:crypto';
import type {
  APIGatewayProxyEventV2WithJWTAuthorizer,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';
import { makeApiHandler } from '../../functions/api/handler.js';
import { mintDevToken } from '../../local/dev-token.js';
import type { LocalStack } from '../../local/stack.js';

export interface ApiAnswer {
  status: number;
  body: any;
}

/** A fresh tenant with one bucket, and an admin of it who calls the API two ways. */
export interface BenchTenant {
  tenantId: string;
  userId: string;
  bucketId: string;
  /** The middy API handler in this process, with a v2 event as API Gateway sends it. */
  invoke(method: string, path: string, body?: unknown): Promise<ApiAnswer>;
  /** The same route through the local HTTP server, bearer token and all. */
  http(method: string, path: string, body?: unknown): Promise<ApiAnswer>;
}

export async function createBenchTenant(
  stack: LocalStack,
  label: string,
  bucket: { maxFileSize?: number; allowedMimeTypes?: string[] } = {},
): Promise<BenchTenant> {
  const { config, services, logger } = stack.app;
  const tenantId = `bench-${label}-${randomBytes(4).toString('hex')}`;
  const userId = 'bench-user';
  const roles = ['admin'];
  const handler = makeApiHandler({ services, claimNames: config.jwt, logger });
  // API Gateway's JWT authorizer passes claims as strings, arrays flattened to `[a b]`.
  const claims = {
    sub: userId,
    [config.jwt.tenantClaim]: tenantId,
    [config.jwt.rolesClaim]: `[${roles.join(' ')}]`,
  };
  const token = await mintDevToken({ tenantId, userId, roles, claimNames: config.jwt });

  const invoke = async (method: string, path: string, body?: unknown): Promise<ApiAnswer> => {
    const result = (await handler(apiEvent(method, path, claims, body), lambdaContext())) as
      | APIGatewayProxyStructuredResultV2
      | undefined;
    return { status: result?.statusCode ?? 200, body: result?.body ? JSON.parse(result.body) : undefined };
  };
  const http = async (method: string, path: string, body?: unknown): Promise<ApiAnswer> => {
    const res = await fetch(`${stack.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };

  const created = await invoke('POST', '/v1/buckets', { name: `bench ${label}`, ...bucket });
  if (created.status !== 201)
    throw new Error(`Creating the bench bucket answered ${created.status}: ${JSON.stringify(created.body)}`);
  return { tenantId, userId, bucketId: created.body.id, invoke, http };
}

/** Throws unless the API answered `expected`: a benchmark of failures would measure nothing. */
export function expectStatus(answer: ApiAnswer, expected: number, what: string): any {
  if (answer.status !== expected)
    throw new Error(`${what} answered ${answer.status}, not ${expected}: ${JSON.stringify(answer.body)}`);
  return answer.body;
}

function apiEvent(
  method: string,
  path: string,
  claims: Record<string, string>,
  body: unknown,
): APIGatewayProxyEventV2WithJWTAuthorizer {
  const now = new Date();
  const [rawPath = '/', rawQueryString = ''] = path.split('?');
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath,
    rawQueryString,
    headers: { 'content-type': 'application/json', host: 'bench.local' },
    isBase64Encoded: false,
    body: body === undefined ? undefined : JSON.stringify(body),
    requestContext: {
      accountId: 'bench',
      apiId: 'bench',
      domainName: 'bench.local',
      domainPrefix: 'bench',
      http: { method, path: rawPath, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'bench' },
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
      authorizer: { principalId: claims.sub ?? '', integrationLatency: 0, jwt: { claims, scopes: [] } },
    },
  };
}

function lambdaContext(): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'stowage-api-bench',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:local:000000000000:function:stowage-api-bench',
    memoryLimitInMB: '1024',
    awsRequestId: randomUUID(),
    logGroupName: 'bench',
    logStreamName: 'bench',
    getRemainingTimeInMillis: () => 29_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
