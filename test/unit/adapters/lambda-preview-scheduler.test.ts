import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { createLambdaPreviewScheduler } from '../../../shared/adapters/preview/lambda-preview-scheduler.js';

const lambda = mockClient(LambdaClient);
const warnings: unknown[] = [];
let clock = 0;
const scheduler = () =>
  createLambdaPreviewScheduler({
    client: new LambdaClient({ region: 'eu-west-1' }),
    functionName: 'stowage-render',
    logger: { info() {}, error() {}, warn: (message, fields) => void warnings.push({ message, fields }) },
    now: () => clock,
  });
const payloads = () =>
  lambda
    .commandCalls(InvokeCommand)
    .map((c) => JSON.parse(new TextDecoder().decode(c.args[0].input.Payload as Uint8Array)));

beforeEach(() => {
  lambda.reset();
  warnings.length = 0;
  clock = 0;
});

describe('createLambdaPreviewScheduler', () => {
  it('invokes the render function asynchronously with { tenantId, fileId }, without waiting for it', async () => {
    // Prepare
    lambda.on(InvokeCommand).resolves({ StatusCode: 202 });
    const s = scheduler();
    // Act
    const returned = s.schedule('acme', 'F1');
    await s.settled();
    // Assess
    expect(returned).toBeUndefined();
    expect(lambda.commandCalls(InvokeCommand)[0]!.args[0].input).toMatchObject({
      FunctionName: 'stowage-render',
      InvocationType: 'Event',
    });
    expect(payloads()).toEqual([{ tenantId: 'acme', fileId: 'F1' }]);
  });

  it('settled() waits for invocations still on their way (a frozen Lambda would never send them)', async () => {
    let release: () => void = () => undefined;
    lambda
      .on(InvokeCommand)
      .callsFake(() => new Promise((done) => (release = () => done({ StatusCode: 202 }))));
    const s = scheduler();
    s.schedule('acme', 'F1');
    let settled = false;
    const waiting = s.settled().then(() => (settled = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(settled).toBe(false);
    release();
    await waiting;
    expect(settled).toBe(true);
  });

  it('sends a file asked for again within 10 s only once (clients poll a 202), and again after', async () => {
    lambda.on(InvokeCommand).resolves({ StatusCode: 202 });
    const s = scheduler();
    s.schedule('acme', 'F1');
    clock = 9_999;
    s.schedule('acme', 'F1');
    s.schedule('acme', 'F2');
    s.schedule('other', 'F1');
    clock = 10_000;
    s.schedule('acme', 'F1');
    await s.settled();
    expect(payloads()).toEqual([
      { tenantId: 'acme', fileId: 'F1' },
      { tenantId: 'acme', fileId: 'F2' },
      { tenantId: 'other', fileId: 'F1' },
      { tenantId: 'acme', fileId: 'F1' },
    ]);
  });

  it('never throws: a refused invocation is logged, and the next ask sends it again', async () => {
    lambda.on(InvokeCommand).rejectsOnce(new Error('TooManyRequestsException')).resolves({ StatusCode: 202 });
    const s = scheduler();
    expect(() => s.schedule('acme', 'F1')).not.toThrow();
    await s.settled();
    expect(warnings).toEqual([
      {
        message: 'preview not scheduled',
        fields: { fileId: 'F1', error: 'Error: TooManyRequestsException' },
      },
    ]);
    s.schedule('acme', 'F1');
    await s.settled();
    expect(lambda.commandCalls(InvokeCommand)).toHaveLength(2);
  });
});
