import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentityProvider, SourceData } from '@smithy/types';

/**
 * A SigV4-signed call of an AWS JSON protocol (SQS, EventBridge). The project ships no SQS or
 * EventBridge client yet (`@aws-sdk/client-sqs`, `@aws-sdk/client-eventbridge`); the two
 * adapters that need them make their few calls through this, and switch to the clients once
 * they are dependencies. Errors carry AWS's `__type` and message, never the request body.
 */
export interface AwsJsonService {
  /** The signing name and host prefix: `sqs`, `events`. */
  service: string;
  region: string;
  credentials: AwsCredentialIdentityProvider;
  /** `AmazonSQS`, `AWSEvents`. */
  targetPrefix: string;
  /** `1.0` for SQS, `1.1` for EventBridge. */
  jsonVersion: '1.0' | '1.1';
  /** @default https://{service}.{region}.amazonaws.com */
  endpoint?: string;
}

export type AwsJsonCall = <T>(action: string, input: unknown) => Promise<T>;

export function createAwsJsonCall(opts: AwsJsonService): AwsJsonCall {
  const endpoint = new URL(opts.endpoint ?? `https://${opts.service}.${opts.region}.amazonaws.com/`);
  const signer = new SignatureV4({
    service: opts.service,
    region: opts.region,
    credentials: opts.credentials,
    sha256: NodeSha256,
  });
  return async <T>(action: string, input: unknown): Promise<T> => {
    const body = JSON.stringify(input);
    const signed = await signer.sign({
      method: 'POST',
      protocol: endpoint.protocol,
      hostname: endpoint.hostname,
      port: endpoint.port ? Number(endpoint.port) : undefined,
      path: endpoint.pathname,
      query: {},
      headers: {
        host: endpoint.host,
        'content-type': `application/x-amz-json-${opts.jsonVersion}`,
        'x-amz-target': `${opts.targetPrefix}.${action}`,
      },
      body,
    });
    const res = await fetch(endpoint, {
      method: 'POST',
      headers: signed.headers as Record<string, string>,
      body,
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    const parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    if (!res.ok) {
      const type = String(parsed.__type ?? `HTTP ${res.status}`)
        .split('#')
        .pop();
      throw new Error(
        `${opts.targetPrefix}.${action} failed: ${type}: ${String(parsed.message ?? parsed.Message ?? '')}`,
      );
    }
    return parsed as T;
  };
}

const bytes = (data: SourceData): Buffer =>
  typeof data === 'string'
    ? Buffer.from(data, 'utf8')
    : ArrayBuffer.isView(data)
      ? Buffer.from(data.buffer, data.byteOffset, data.byteLength)
      : Buffer.from(data as ArrayBuffer);

/** SHA-256 and HMAC-SHA256 over node:crypto, in the shape SignatureV4 asks for. */
class NodeSha256 {
  private hash: Hash | Hmac;
  constructor(private readonly secret?: SourceData) {
    this.hash = this.fresh();
  }
  update(data: SourceData): void {
    this.hash.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {
    this.hash = this.fresh();
  }
  private fresh(): Hash | Hmac {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(this.secret));
  }
}
