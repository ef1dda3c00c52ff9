import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SQSClient } from '@aws-sdk/client-sqs';
import { dnsHostResolver } from '../../shared/adapters/dns-host-resolver.js';
import { createEventBridgeEventBus } from '../../shared/adapters/eventbridge-event-bus.js';
import { createGuardedAgents } from '../../shared/adapters/guarded-http.js';
import { createSqsWebhookQueue } from '../../shared/adapters/sqs-webhook-queue.js';
import { createWebhookHttpSender } from '../../shared/adapters/webhook-http-sender.js';
import type { EventBus, MessageVisibility, WebhookQueue } from '../../shared/ports/webhook-transport.js';
import { WebhookDelivery } from '../../shared/services/webhook-delivery.js';
import { WebhookFanOut } from '../../shared/services/webhook-fan-out.js';
import { fileView } from '../api/views.js';
import type { App } from './compose.js';
import { ConfigError, type StowageConfig } from './config.js';

/** The fan-out of recorded events (API.md 13.5) over the app's ports and the given transport. */
export function composeWebhookFanOut(app: App, transport: { queue: WebhookQueue; bus?: EventBus }) {
  return new WebhookFanOut({
    metadata: app.metadata,
    queue: transport.queue,
    bus: transport.bus,
    clock: app.deps.clock,
    fileView,
  });
}

/** One delivery attempt: guarded HTTP (API.md 13.7 at every connection), the configured schedule. */
export function composeWebhookDelivery(app: App, queue: Pick<WebhookQueue, 'deadLetter'>) {
  const { config, deps } = app;
  return new WebhookDelivery({
    metadata: app.metadata,
    secrets: deps.secrets,
    sender: createWebhookHttpSender({
      agents: createGuardedAgents({
        allowedOrigins: config.allowedEndpoints,
        resolver: deps.resolver ?? dnsHostResolver,
      }),
      timeoutMs: config.webhooks.timeoutMs,
    }),
    queue,
    clock: deps.clock,
    logger: app.logger,
    schedule: config.webhooks.retry,
  });
}

/** SQS and EventBridge in AWS (WEBHOOK_QUEUE_URL, WEBHOOK_DLQ_URL, EVENT_BUS_NAME). */
export function awsWebhookTransport(config: StowageConfig): {
  queue: WebhookQueue & MessageVisibility;
  bus?: EventBus;
} {
  const { queueUrl, deadLetterQueueUrl, eventBusName } = config.webhooks;
  if (!queueUrl || !deadLetterQueueUrl)
    throw new ConfigError('WEBHOOK_QUEUE_URL and WEBHOOK_DLQ_URL are required by the webhook functions.');
  return {
    queue: createSqsWebhookQueue({
      client: new SQSClient({ region: config.region }),
      queueUrl,
      deadLetterQueueUrl,
    }),
    bus: eventBusName
      ? createEventBridgeEventBus({
          client: new EventBridgeClient({ region: config.region }),
          busName: eventBusName,
        })
      : undefined,
  };
}
