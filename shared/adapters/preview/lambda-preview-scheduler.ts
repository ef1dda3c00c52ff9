import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import type { Logger } from '../../ports/logger.js';
import type { PreviewScheduler } from '../../ports/preview-scheduler.js';

/** The event the render function (functions/render-preview) is invoked with. */
export interface RenderPreviewRequest {
  tenantId: string;
  fileId: string;
}

export interface LambdaPreviewScheduler extends PreviewScheduler {
  /**
   * Resolves once every invocation asked for so far has been handed to Lambda (or has failed
   * and been logged). A Lambda is frozen as soon as it answers, so entry points await this
   * before they answer, or a render asked for at the end of a request may never be sent.
   */
  settled(): Promise<void>;
}

/**
 * Renders ahead of time (and, in the API, on demand) by an asynchronous invocation of the
 * render function (`InvocationType: 'Event'`): Lambda queues the event, retries a throttled
 * one and answers 202 at once, so `complete` and the storage events never wait for a render.
 * Chosen over an SQS queue: no extra queue, permission or event source mapping, and the render
 * function's reserved concurrency already caps how many renders run at once.
 *
 * The same file asked for again within `repeatAfterMs` in this container is not sent twice
 * (clients poll a 202 every second or two); a render that did not happen is asked for again
 * by the next request after that.
 */
export function createLambdaPreviewScheduler(opts: {
  client: LambdaClient;
  functionName: string;
  logger: Logger;
  /** @default 10000 */
  repeatAfterMs?: number;
  now?: () => number;
  /** What the jobs are, in log lines. @default 'preview' */
  job?: string;
}): LambdaPreviewScheduler {
  const job = opts.job ?? 'preview';
  const repeatAfterMs = opts.repeatAfterMs ?? 10_000;
  const now = opts.now ?? Date.now;
  const sending = new Set<Promise<void>>();
  const lastSent = new Map<string, number>();

  const send = async (request: RenderPreviewRequest) => {
    try {
      await opts.client.send(
        new InvokeCommand({
          FunctionName: opts.functionName,
          InvocationType: 'Event',
          Payload: new TextEncoder().encode(JSON.stringify(request)),
        }),
      );
    } catch (error) {
      // Not fatal: the preview is rendered when it is next asked for.
      lastSent.delete(`${request.tenantId}/${request.fileId}`);
      opts.logger.warn(`${job} not scheduled`, { fileId: request.fileId, error: String(error) });
    }
  };

  return {
    schedule(tenantId, fileId) {
      const key = `${tenantId}/${fileId}`;
      const at = now();
      const previous = lastSent.get(key);
      if (previous !== undefined && at - previous < repeatAfterMs) return;
      lastSent.delete(key); // re-inserted last: the oldest ask is dropped first
      lastSent.set(key, at);
      if (lastSent.size > 1000) lastSent.delete(lastSent.keys().next().value as string);
      const sent = send({ tenantId, fileId }).finally(() => sending.delete(sent));
      sending.add(sent);
    },
    async settled() {
      while (sending.size > 0) await Promise.all(sending);
    },
  };
}
