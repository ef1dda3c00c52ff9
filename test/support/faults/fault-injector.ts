import { Readable } from 'node:stream';
import {
  type DynamoDBClient,
  InternalServerError,
  ProvisionedThroughputExceededException,
} from '@aws-sdk/client-dynamodb';
import { type S3Client, S3ServiceException } from '@aws-sdk/client-s3';

/**
 * Faults injected into the REAL SDK clients of an app, by a middleware on each client's stack.
 * The middleware sits inside the SDK's retry loop (the `deserialize` step), so the client's own
 * retry strategy sees every fault exactly as it would see one from the network, while the state
 * lives in DynamoDB Local and the embedded S3 store, where consistency can be checked.
 */

/**
 * `error-in-200` (S3 only): storage answers `200 OK` with an `<Error>` body, as S3 may for
 * CompleteMultipartUpload and CopyObject. It is answered below every middleware, in place of the
 * HTTP call, so the SDK's own parsing (S3's 200-error check, the deserializer) meets it.
 */
export type FaultKind = 'throttle' | 'server' | 'timeout' | 'reset' | 'error-in-200';
export type FaultService = 's3' | 'dynamodb';
/** The kinds every step is tried with; `error-in-200` is for the S3 calls that can answer so. */
export const FAULT_KINDS: readonly FaultKind[] = ['throttle', 'server', 'timeout', 'reset'];

/**
 * `request`: the call fails before storage sees it. `response`: storage did the work and the
 * answer was lost on the way back (a reset or timeout while reading it), the nastiest case: the
 * write happened, but the caller is told it failed.
 */
export type FaultPoint = 'request' | 'response';

export interface FaultRule {
  service: FaultService;
  /**
   * The SDK operation (`TransactWriteItems`, `HeadObject`...); `presign:<Operation>` for a
   * presigned URL (signing is local: its faults come from the credential provider), and
   * `credentials` for the credential provider itself (what a presigned POST consults).
   */
  operation: string;
  kind: FaultKind;
  /** @default 'request' */
  point?: FaultPoint;
  /** Matching calls that pass untouched before the first fault. @default 0 */
  skip?: number;
  /** Matching calls that fail after the skipped ones. @default Infinity (a persistent fault) */
  times?: number;
  /** Only calls whose input, as JSON, contains this text (a file id, an object key). */
  inputIncludes?: string;
}

export interface ArmedFault {
  readonly rule: FaultRule;
  /** Calls that matched the rule. */
  readonly calls: number;
  /** Calls that were failed. */
  readonly injected: number;
}

/** Carried by every injected error's message: a 5xx body that contains it leaked its cause. */
export const FAULT_MARKER = 'injected-fault-cause';

class Armed implements ArmedFault {
  calls = 0;
  injected = 0;
  constructor(readonly rule: FaultRule) {}

  /** Counts a matching call and answers whether this one fails. */
  take(): boolean {
    this.calls += 1;
    const skip = this.rule.skip ?? 0;
    const times = this.rule.times ?? Number.POSITIVE_INFINITY;
    const fails = this.calls > skip && this.calls <= skip + times;
    if (fails) this.injected += 1;
    return fails;
  }
}

export class FaultInjector {
  private armed: Armed[] = [];
  /** Every call seen, as `service operation`, in order. */
  readonly seen: string[] = [];

  arm(rule: FaultRule): ArmedFault {
    const armed = new Armed(rule);
    this.armed.push(armed);
    return armed;
  }

  disarm(): void {
    this.armed = [];
  }

  attachS3(client: S3Client): void {
    this.attach(client, 's3');
    // In place of the HTTP call, the answer a middleware above asked for (`error-in-200`).
    const handler = client.config.requestHandler as unknown as {
      handle(request: object, options?: object): Promise<{ response: unknown }>;
    };
    const send = handler.handle.bind(handler);
    handler.handle = async (request, options) => {
      const body = (request as { [ANSWER_200]?: string })[ANSWER_200];
      if (body === undefined) return send(request, options);
      return {
        response: {
          statusCode: 200,
          headers: { 'content-type': 'application/xml', 'x-amz-request-id': requestId() },
          body: Readable.from([Buffer.from(body)]),
        },
      };
    };
    // A presigned POST is signed straight from the credential provider, past any middleware.
    const config = client.config as unknown as { credentials: (...args: unknown[]) => Promise<unknown> };
    const credentials = config.credentials;
    config.credentials = async (...args: unknown[]) => {
      this.check('s3', 'credentials', undefined, 'request');
      return credentials(...args);
    };
  }

  attachDynamo(client: DynamoDBClient): void {
    this.attach(client, 'dynamodb');
  }

  private attach(client: S3Client | DynamoDBClient, service: FaultService): void {
    const stack = client.middlewareStack as S3Client['middlewareStack'];
    stack.add(
      (next, context) => async (args) => {
        const operation = operationOf(context.commandName);
        this.seen.push(`${service} ${operation}`);
        const answer200 = this.match(service, operation, args.input, 'request', 'error-in-200');
        if (answer200) (args.request as { [ANSWER_200]?: string })[ANSWER_200] = s3ErrorXml();
        else this.check(service, operation, args.input, 'request');
        let result: Awaited<ReturnType<typeof next>>;
        try {
          result = await next(args);
        } catch (error) {
          // A lost answer hides a refusal (a failed condition...) as well as a success.
          const lost = this.match(service, operation, args.input, 'response');
          throw lost ? faultError(service, lost.rule.kind) : error;
        }
        const lost = this.match(service, operation, args.input, 'response');
        if (lost) {
          // Let go of a streamed body nobody will read.
          (result.output as { Body?: { destroy?: () => void } }).Body?.destroy?.();
          throw faultError(service, lost.rule.kind);
        }
        return result;
      },
      { step: 'deserialize', priority: 'high', name: 'faultInjectionMiddleware' },
    );
    // A presign runs the stack up to signing and never sends; it is recognised by its output.
    stack.add(
      (next, context) => async (args) => {
        const result = await next(args);
        if ((result.output as { presigned?: unknown }).presigned !== undefined)
          this.check(service, `presign:${operationOf(context.commandName)}`, args.input, 'request');
        return result;
      },
      { step: 'build', priority: 'high', name: 'presignFaultInjectionMiddleware' },
    );
  }

  private check(service: FaultService, operation: string, input: unknown, point: FaultPoint): void {
    const armed = this.match(service, operation, input, point);
    if (armed) throw faultError(service, armed.rule.kind);
  }

  /** The armed rule this call meets, counted; `error-in-200` rules only where `only` asks for them. */
  private match(
    service: FaultService,
    operation: string,
    input: unknown,
    point: FaultPoint,
    only?: 'error-in-200',
  ): Armed | null {
    let text: string | undefined;
    for (const armed of this.armed) {
      const { rule } = armed;
      if (rule.service !== service || rule.operation !== operation || (rule.point ?? 'request') !== point)
        continue;
      if ((rule.kind === 'error-in-200') !== (only === 'error-in-200')) continue;
      if (rule.inputIncludes !== undefined) {
        text ??= safeJson(input);
        if (!text.includes(rule.inputIncludes)) continue;
      }
      if (armed.take()) return armed;
    }
    return null;
  }
}

const operationOf = (commandName: string | undefined) => (commandName ?? 'Unknown').replace(/Command$/, '');

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value, (_key, v) => (typeof v === 'bigint' ? String(v) : v)) ?? '';
  } catch {
    return '';
  }
}

/** Marks a request to be answered `200 OK` with this body instead of being sent. */
const ANSWER_200 = Symbol('answer200');

const s3ErrorXml = () =>
  '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InternalError</Code>' +
  `<Message>We encountered an internal error. Please try again. [${FAULT_MARKER}]</Message>` +
  `<RequestId>${requestId()}</RequestId></Error>`;

let requestCounter = 0;
const requestId = () => `FAULT${String(++requestCounter).padStart(8, '0')}`;

/** The error the SDK would raise for this fault, as its deserializer or HTTP handler builds it. */
export function faultError(service: FaultService, kind: FaultKind): Error {
  const tag = `[${FAULT_MARKER}]`;
  switch (kind) {
    case 'throttle':
      return service === 'dynamodb'
        ? new ProvisionedThroughputExceededException({
            message: `The level of configured provisioned throughput for the table was exceeded. ${tag}`,
            $metadata: { httpStatusCode: 400, requestId: requestId() },
          })
        : new S3ServiceException({
            name: 'SlowDown',
            $fault: 'server',
            message: `Please reduce your request rate. ${tag}`,
            $metadata: { httpStatusCode: 503, requestId: requestId() },
          });
    case 'server':
      return service === 'dynamodb'
        ? new InternalServerError({
            message: `Internal server error ${tag}`,
            $metadata: { httpStatusCode: 500, requestId: requestId() },
          })
        : new S3ServiceException({
            name: 'InternalError',
            $fault: 'server',
            message: `We encountered an internal error. Please try again. ${tag}`,
            $metadata: { httpStatusCode: 500, requestId: requestId() },
          });
    case 'timeout':
      // What @smithy/node-http-handler raises when the socket stays silent past requestTimeout.
      return Object.assign(new Error(`Connection timed out after 3000 ms ${tag}`), {
        name: 'TimeoutError',
        $metadata: {},
      });
    case 'error-in-200':
      // Answered on the wire (see `attachS3`); where it cannot be, it is what the SDK makes of it.
      return faultError(service, 'server');
    case 'reset':
      return Object.assign(new Error(`read ECONNRESET ${tag}`), {
        code: 'ECONNRESET',
        errno: -104,
        syscall: 'read',
        $metadata: {},
      });
  }
}
