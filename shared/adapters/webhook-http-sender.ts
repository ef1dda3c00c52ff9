import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { WebhookPostResult, WebhookSender } from '../ports/webhook-transport.js';
import { EndpointRefusedError, type GuardedAgents } from './guarded-http.js';

/**
 * Webhook POSTs through the guarded agents (API.md 13.7 on the address actually connected to,
 * so a name rebound to 127.0.0.1 since creation never connects). Node's client never follows a
 * redirect: a 3xx is an answer like any other non-2xx. The response body is never read beyond
 * draining it, so nothing a receiver says ends up in a delivery record or a log.
 */
export function createWebhookHttpSender(opts: { agents: GuardedAgents; timeoutMs: number }): WebhookSender {
  return {
    post: (url, body, headers) =>
      new Promise<WebhookPostResult>((done) => {
        let target: URL;
        try {
          target = new URL(url);
        } catch {
          return done({ kind: 'failed', reason: 'not a URL' });
        }
        const https = target.protocol === 'https:';
        const send = https ? httpsRequest : httpRequest;
        let settled = false;
        const finish = (result: WebhookPostResult) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          done(result);
        };
        const req = send(target, {
          method: 'POST',
          agent: https ? opts.agents.httpsAgent : opts.agents.httpAgent,
          headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        });
        const timer = setTimeout(() => {
          finish({ kind: 'failed', reason: `timed out after ${opts.timeoutMs} ms` });
          req.destroy();
        }, opts.timeoutMs);
        req.on('response', (res) => {
          res.resume();
          finish({ kind: 'answered', status: res.statusCode ?? 0 });
        });
        req.on('error', (error: NodeJS.ErrnoException) => {
          finish({
            kind: 'failed',
            reason:
              error instanceof EndpointRefusedError
                ? 'refused: the address is not public (API.md 13.7)'
                : `connection failed (${error.code ?? error.name})`,
          });
        });
        req.end(body);
      }),
  };
}
