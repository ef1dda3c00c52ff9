import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startEmbeddedDynamo } from '../../local/embedded-dynamodb.js';
import { createDynamoMetadataStore } from '../../shared/adapters/dynamodb/create-dynamo-metadata-store.js';
import { createUlidGenerator } from '../../shared/adapters/ulid-id-generator.js';
import { verifyWebhookSignature } from '../../web/client/index.js';
import { type Client, client, newTenant, sendBytes } from '../support/api.js';
import { type ChildStack, startChildStack } from '../support/child-stack.js';
import { CSV } from '../support/samples.js';
import { receiverKey } from '../support/webhook-receiver.js';

/**
 * Webhooks survive a crash of the local stack (issue 13: "nothing lost in a crash between the
 * state change and the delivery"). `npm start` runs as a child process on one data directory
 * and is killed with SIGKILL, so no shutdown code runs; the next start must deliver what was
 * owed, with the same event id and a valid signature, and keep showing what died. The steps
 * build on each other (one data directory through three crashes), so they run in order.
 */

const origin = () => inject('webhookReceiver');
const tag = Date.now().toString(36);
const delivering = receiverKey(origin(), `restart-ok-${tag}`);
const refusing = receiverKey(origin(), `restart-dead-${tag}`);

/** Retries far apart: nothing but a restart can make the second attempt come soon. */
const slowRetries = {
  WEBHOOK_RETRY_FIRST_DELAY_MS: '600000',
  WEBHOOK_RETRY_MAX_DELAY_MS: '600000',
  WEBHOOK_RETRY_MIN_SPAN_MS: '3600000',
};
/** The test schedule of the shared stack: a delivery is dead 3 s after its first attempt. */
const quickRetries = {
  WEBHOOK_RETRY_FIRST_DELAY_MS: '200',
  WEBHOOK_RETRY_MAX_DELAY_MS: '800',
  WEBHOOK_RETRY_MIN_SPAN_MS: '3000',
};

let dataDir: string;
let stack: ChildStack | null = null;
const tenantId = newTenant('restart');
let okHook: { id: string; secret: string };
let deadHook: { id: string; secret: string };
let fileId: string;
let renamedEventId: string;

const start = async (retries: Record<string, string>) => {
  stack = await startChildStack({
    FILESTORE_DATA_DIR: dataDir,
    FILESTORE_ALLOWED_ENDPOINTS: origin(),
    WEBHOOK_TIMEOUT_MS: '1500',
    ...retries,
  });
  return { stack, admin: await client(tenantId, 'alice', ['admin'], stack.url) };
};
const crash = async () => {
  await stack?.crash();
  stack = null;
};

async function eventually<T>(probe: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 20_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (ok(value) || Date.now() > until) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
}
const deliveriesOf = async (api: Client, hookId: string): Promise<any[]> =>
  (await api.get(`/v1/webhooks/${hookId}/deliveries`)).body.items;
const updatesTo = async (key: typeof delivering) =>
  (await key.received()).filter((r) => JSON.parse(r.body).type === 'file.updated');

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'stowage-restart-'));
});
afterAll(async () => {
  await stack?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

describe('webhooks across a crash of the local stack', { timeout: 180_000 }, () => {
  it('delivers after a restart a retry that was pending when the stack was killed', async () => {
    // Prepare: the receiver is down for the first attempt; the next one is ten minutes away.
    await delivering.behave({ failTimes: 1, failStatus: 503 });
    await refusing.behave({ failTimes: 1_000_000, failStatus: 500 });
    const { admin } = await start(slowRetries);
    okHook = (await admin.post('/v1/webhooks', { url: delivering.url, events: ['file.updated'] })).body;
    deadHook = (await admin.post('/v1/webhooks', { url: refusing.url, events: ['file.updated'] })).body;
    const bucket = (await admin.post('/v1/buckets', { name: 'Restarted' })).body;
    const init = await admin.post(`/v1/buckets/${bucket.id}/uploads`, {
      filename: 'before.csv',
      contentType: 'text/csv',
      size: CSV.length,
    });
    await sendBytes(init.body.upload, CSV);
    expect((await admin.post(`/v1/files/${init.body.file.id}/complete`, {})).body.status).toBe('active');
    fileId = init.body.file.id;
    expect((await admin.patch(`/v1/files/${fileId}`, { name: 'after.csv' })).status).toBe(200);
    const failed = await eventually(
      () => deliveriesOf(admin, okHook.id),
      (items) => items.some((d) => d.type === 'file.updated' && d.status === 'failed'),
    );
    const first = failed.find((d) => d.type === 'file.updated');
    expect(first).toMatchObject({ status: 'failed', attempts: 1, lastError: 'HTTP 503' });
    renamedEventId = first.eventId;
    await eventually(
      () => deliveriesOf(admin, deadHook.id),
      (items) => items.some((d) => d.status === 'failed'),
    );

    // Act: kill -9, then start again on the same data directory.
    await crash();
    const restarted = await start(quickRetries);

    // Assess
    const arrived = await eventually(
      () => updatesTo(delivering),
      (r) => r.length >= 2,
    );
    expect(arrived.length, restarted.stack.output()).toBeGreaterThanOrEqual(2);
    const retried = arrived[arrived.length - 1];
    const payload = JSON.parse(retried?.body as string);
    expect(payload).toMatchObject({ id: renamedEventId, type: 'file.updated', tenantId });
    expect(payload.file).toMatchObject({ id: fileId, originalName: 'after.csv' });
    expect(retried?.headers['stowage-event-id']).toBe(renamedEventId);
    expect(
      await verifyWebhookSignature({
        body: retried?.body as string,
        header: retried?.headers['stowage-signature'] as string,
        secret: okHook.secret,
      }),
    ).toBe(true);
    const settled = await eventually(
      () => deliveriesOf(restarted.admin, okHook.id),
      (items) => items.some((d) => d.eventId === renamedEventId && d.status === 'delivered'),
    );
    expect(settled.find((d) => d.eventId === renamedEventId)).toMatchObject({
      status: 'delivered',
      attempts: 2,
    });
  });

  it('dead-letters a retry carried over a restart, and still shows it after the next one', async () => {
    // Prepare: the refusing hook's delivery came over the crash as `failed`; its span is 3 s.
    const running = stack as ChildStack;
    const admin = await client(tenantId, 'alice', ['admin'], running.url);
    const dead = await eventually(
      () => deliveriesOf(admin, deadHook.id),
      (items) => items.some((d) => d.eventId === renamedEventId && d.status === 'dead'),
    );
    expect(dead.find((d) => d.eventId === renamedEventId)).toMatchObject({ status: 'dead' });

    // Act
    await crash();
    const again = await start(quickRetries);

    // Assess
    const after = await deliveriesOf(again.admin, deadHook.id);
    const letter = after.find((d) => d.eventId === renamedEventId);
    expect(letter).toMatchObject({
      eventId: renamedEventId,
      type: 'file.updated',
      status: 'dead',
      lastError: 'HTTP 500',
    });
    expect(letter.attempts).toBeGreaterThanOrEqual(2);
  });

  it('fans out an event whose process died before fanning it out', async () => {
    // Prepare: what a stack killed right after writing a change leaves: the audit event in the
    // table, and nothing else. Written by the same repository, with the stack down.
    await crash();
    const dynamo = await startEmbeddedDynamo({
      dataDir: join(dataDir, 'dynamodb'),
      port: 0,
      // DynamoDB Local takes key ids of letters and digits only.
      credentials: { accessKeyId: 'restarttest', secretAccessKey: 'restarttestsecret' },
    });
    const eventId = createUlidGenerator().next();
    try {
      const metadata = createDynamoMetadataStore({
        client: DynamoDBDocumentClient.from(
          new DynamoDBClient({
            region: 'us-east-1',
            endpoint: dynamo.endpoint,
            credentials: dynamo.credentials,
          }),
        ),
        tableName: 'stowage',
      });
      await metadata.events.record(tenantId, {
        id: eventId,
        type: 'file.updated',
        at: new Date().toISOString(),
        actor: 'alice',
        fileId,
        providerId: null,
        status: 'ok',
        latencyMs: null,
        details: { name: 'after.csv' },
      });
    } finally {
      await dynamo.stop();
    }

    // Act
    await start(quickRetries);

    // Assess
    const arrived = await eventually(
      () => updatesTo(delivering),
      (r) => r.some((x) => JSON.parse(x.body).id === eventId),
    );
    const got = arrived.find((x) => JSON.parse(x.body).id === eventId);
    expect(got, 'the event recorded before the crash never arrived').toBeDefined();
    expect(JSON.parse(got?.body as string)).toMatchObject({ id: eventId, type: 'file.updated', tenantId });
    expect(
      await verifyWebhookSignature({
        body: got?.body as string,
        header: got?.headers['stowage-signature'] as string,
        secret: okHook.secret,
      }),
    ).toBe(true);
  });
});
