import type { SQSEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { makeProcessUploadHandler } from '../../../functions/process-upload/handler.js';
import { silentLogger } from '../../../shared/ports/logger.js';
import type { CreatedObject, ValidationService } from '../../../shared/services/validation-service.js';

const keyOf = (n: number) => `tenants/acme/01BUCKET/01FILE${n}`;
const message = (n: number) => ({
  messageId: `m-${n}`,
  body: JSON.stringify({
    Records: [{ eventName: 'ObjectCreated:Put', s3: { object: { key: keyOf(n), eTag: `etag-${n}` } } }],
  }),
});
const batch = (...ns: number[]) => ({ Records: ns.map(message) }) as unknown as SQSEvent;

describe('process-upload', () => {
  it('validates the messages of a batch side by side: a slow one holds up none of the others', async () => {
    // Prepare: the first object's validation waits until every other one has started.
    const started: string[] = [];
    let releaseSlow = () => {};
    const slowDone = new Promise<void>((done) => {
      releaseSlow = done;
    });
    const validation = {
      onObjectCreated: async (object: CreatedObject) => {
        started.push(object.key);
        if (object.key === keyOf(1)) await slowDone;
        if (started.length === 3) releaseSlow();
        return null;
      },
    } as unknown as ValidationService;
    const handler = makeProcessUploadHandler({ validation, logger: silentLogger });

    // Act: with one message at a time this would never finish.
    const answer = await handler(batch(1, 2, 3));

    // Assess
    expect(answer).toEqual({ batchItemFailures: [] });
    expect(started).toEqual([keyOf(1), keyOf(2), keyOf(3)]);
  });

  it('answers only the failed messages for redelivery', async () => {
    const validation = {
      onObjectCreated: async (object: CreatedObject) => {
        if (object.key === keyOf(2)) throw new Error('storage down');
        return null;
      },
    } as unknown as ValidationService;
    const handler = makeProcessUploadHandler({ validation, logger: silentLogger });

    expect(await handler(batch(1, 2, 3))).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-2' }] });
  });
});
