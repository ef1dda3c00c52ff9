import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Actor, EntityRef } from '../../shared/domain/model.js';
import {
  composeFaultyApp,
  createFaultStack,
  type FaultStack,
  type FaultyApp,
} from '../support/faults/fault-app.js';
import { FAULT_KINDS } from '../support/faults/fault-injector.js';
import {
  ALL_READ_MODES,
  ALL_WRITE_MODES,
  describeMode,
  expectConsistent,
  expectFired,
  expectInternal,
  type FaultMode,
  newActor,
  PERSISTENT,
  recovers,
  ruleFor,
  type StepTarget,
  scenarioTally,
  slowestFirst,
  TRANSIENT,
} from '../support/faults/scenario.js';
import { completeCall, sendAll } from '../support/faults/uploads.js';
import { CSV, CSV_ONE_PART } from '../support/samples.js';
import { manualClock } from '../support/second-app.js';

/**
 * POST /v1/buckets/{bucketId}/uploads with faults on each of its storage calls, through the API
 * handler in process. Afterwards the upload either exists (one pending file, its bytes reserved,
 * its references written) and works end to end, or the answer is a bland 500 and nothing is
 * left behind; when storage did the work but the answer was lost, the next maintenance run
 * gives the reservation back. Never a lost or doubled reservation, never a stray reference.
 */

vi.setConfig({ maxConcurrency: 20 });

const tally = scenarioTally(import.meta.url);
const ticket: EntityRef = { entityType: 'ticket', entityId: 'T-1' };
/** Upload URL lifetime (1 h) and the sweep's grace (1 h) have passed. */
const PAST_EXPIRY_MS = 2 * 3_600_000 + 60_000;
let stack: FaultStack;

beforeAll(async () => {
  stack = await createFaultStack('fi');
});
afterAll(() => tally.report());

type Variant = 'PUT' | 'POST' | 'MULTIPART';
/** What the caller and storage see afterwards. */
type Outcome =
  | 'created' // 201 and one pending upload
  | 'refused' // a bland 500 and nothing left behind
  | 'orphaned'; // a bland 500, but the pending upload was written: maintenance releases it

interface Step {
  name: string;
  target: StepTarget;
  variant: Variant;
  modes: FaultMode[];
  outcome: (m: FaultMode) => Outcome;
}

const createdUnless = (m: FaultMode): Outcome => (recovers(m) ? 'created' : 'refused');
/** Signing is local: a fault of the credential provider under it is not retried by the SDK. */
const ONE_SHOT = FAULT_KINDS.map((kind): FaultMode => ({ mode: 'transient', kind }));

const steps: Step[] = [
  {
    name: 'GetItem of the bucket',
    target: { service: 'dynamodb', operation: 'GetItem' },
    variant: 'PUT',
    modes: ALL_READ_MODES,
    outcome: createdUnless,
  },
  {
    name: 'TransactWriteItems createPending (file, reservation, references)',
    target: { service: 'dynamodb', operation: 'TransactWriteItems' },
    variant: 'PUT',
    modes: ALL_WRITE_MODES,
    outcome: (m) => (m.mode === 'lost-always' ? 'orphaned' : createdUnless(m)),
  },
  {
    name: 'presigning the PUT',
    target: { service: 's3', operation: 'presign:PutObject' },
    variant: 'PUT',
    modes: ONE_SHOT,
    outcome: () => 'refused',
  },
  {
    name: 'presigning the POST (credential provider)',
    target: { service: 's3', operation: 'credentials' },
    variant: 'POST',
    modes: [ONE_SHOT[0] as FaultMode, ONE_SHOT[2] as FaultMode],
    outcome: () => 'refused',
  },
  {
    name: 'CreateMultipartUpload',
    target: { service: 's3', operation: 'CreateMultipartUpload' },
    variant: 'MULTIPART',
    modes: ALL_WRITE_MODES,
    outcome: createdUnless,
  },
  {
    name: 'UpdateItem setMultipart',
    target: { service: 'dynamodb', operation: 'UpdateItem' },
    variant: 'MULTIPART',
    modes: ALL_WRITE_MODES,
    outcome: createdUnless,
  },
  {
    name: 'presigning the parts',
    target: { service: 's3', operation: 'presign:UploadPart' },
    variant: 'MULTIPART',
    modes: [ONE_SHOT[1] as FaultMode, ONE_SHOT[3] as FaultMode],
    outcome: () => 'refused',
  },
];

/** What a variant uploads: multipart needs at least one whole part (API.md 13.2). */
const bytesFor = (variant: Variant) => (variant === 'MULTIPART' ? CSV_ONE_PART : CSV);

const bodyFor = (variant: Variant) => ({
  filename: 'notes.csv',
  contentType: 'text/csv',
  size: bytesFor(variant).length,
  references: [ticket],
  ...(variant === 'MULTIPART' ? { multipart: true } : {}),
  ...(variant === 'POST' ? { uploadMethod: 'POST' } : {}),
});

async function scenarioApp(outcome: Outcome) {
  // A maintenance run scans its whole table, so a scenario that needs one has its own.
  if (outcome !== 'orphaned') return { app: composeFaultyApp(stack), clock: null };
  const clock = manualClock();
  return { app: composeFaultyApp(stack, { tableName: await stack.newTable(), clock }), clock };
}

const initiate = (app: FaultyApp, actor: Actor, bucketId: string, variant: Variant) =>
  app.api(actor, 'POST', `/v1/buckets/${bucketId}/uploads`, bodyFor(variant));

/**
 * One pending upload holding its reservation and references. With `endToEnd` (instructions
 * made after a lost answer, which must still be the ones that work) the bytes go up and it completes.
 */
async function expectWorkingUpload(
  app: FaultyApp,
  actor: Actor,
  answer: { status: number; body: any },
  variant: Variant,
  endToEnd = false,
) {
  expect(answer.status).toBe(201);
  expect(answer.body.upload.method).toBe(variant);
  const { file, upload } = answer.body;
  const bytes = bytesFor(variant);
  const state = await expectConsistent(stack, app, actor);
  expect(state.files.map((f) => [f.id, f.status])).toEqual([[file.id, 'pending']]);
  expect(state.quota).toMatchObject({ reservedBytes: bytes.length, usedBytes: 0 });
  expect(state.references).toEqual([`${file.id} ticket#T-1`]);
  if (!endToEnd) return;
  const parts = await sendAll(upload, bytes);
  const completed = await completeCall(app, actor, file.id, parts);
  expect(completed.status).toBe(200);
  expect(completed.body).toMatchObject({ status: 'active', size: bytes.length });
  expect((await expectConsistent(stack, app, actor)).quota).toMatchObject({
    usedBytes: bytes.length,
    reservedBytes: 0,
  });
}

describe.concurrent('initiate under storage faults', () => {
  for (const { step, mode } of slowestFirst(steps)) {
    {
      const outcome = step.outcome(mode);
      it(`${step.name}, ${describeMode(mode)}: ${outcome}`, async () => {
        tally.scenario();
        const { app, clock } = await scenarioApp(outcome);
        try {
          const actor = newActor('fi');
          const bucket = await app.services.buckets.create(actor, { name: 'Inbox' });
          const fault = app.faults.arm(ruleFor(step.target, mode));

          const answer = await initiate(app, actor, bucket.id, step.variant);
          expectFired(fault, mode);
          app.faults.disarm();

          if (outcome === 'created')
            return await expectWorkingUpload(app, actor, answer, step.variant, mode.mode === 'lost-once');
          expectInternal(answer);
          if (outcome === 'refused') {
            const state = await expectConsistent(stack, app, actor);
            expect(state.files).toEqual([]);
            expect(state.quota?.reservedBytes ?? 0).toBe(0);
            // the client tries again, and storage has recovered
            return await expectWorkingUpload(
              app,
              actor,
              await initiate(app, actor, bucket.id, step.variant),
              step.variant,
            );
          }
          // The pending upload was written, though its caller never learned its id.
          const orphan = await expectConsistent(stack, app, actor);
          expect(orphan.files.map((f) => f.status)).toEqual(['pending']);
          expect(orphan.quota?.reservedBytes).toBe(bytesFor(step.variant).length);
          clock?.advance(PAST_EXPIRY_MS);
          expect(await app.maintenance()).toMatchObject({ abandoned: 1, errors: 0 });
          const swept = await expectConsistent(stack, app, actor);
          expect(swept.files).toEqual([]);
          expect(swept.references).toEqual([]);
          expect(swept.quota?.reservedBytes).toBe(0);
        } finally {
          app.destroy();
        }
      });
    }
  }

  it('presigning fails and so does giving the reservation back: maintenance gives it back', async () => {
    tally.scenario();
    const clock = manualClock();
    const app = composeFaultyApp(stack, { tableName: await stack.newTable(), clock });
    try {
      const actor = newActor('fi');
      const bucket = await app.services.buckets.create(actor, { name: 'Inbox' });
      const presign = app.faults.arm({
        service: 's3',
        operation: 'presign:PutObject',
        kind: 'timeout',
        times: 1,
      });
      // the createPending transaction passes; the abandon transaction after it fails every attempt
      const abandon = app.faults.arm({
        service: 'dynamodb',
        operation: 'TransactWriteItems',
        kind: 'server',
        skip: 1,
      });
      expectInternal(await initiate(app, actor, bucket.id, 'PUT'));
      expect(presign.injected).toBe(1);
      expect(abandon.injected).toBeGreaterThanOrEqual(3);
      app.faults.disarm();

      // The record and its reservation stay for the sweep; its reference items went already.
      const left = await expectConsistent(stack, app, actor, [
        /^file refs without reference item .* ticket#T-1$/,
      ]);
      expect(left.files.map((f) => f.status)).toEqual(['pending']);
      expect(left.quota?.reservedBytes).toBe(CSV.length);
      clock.advance(PAST_EXPIRY_MS);
      expect(await app.maintenance()).toMatchObject({ abandoned: 1, errors: 0 });
      const swept = await expectConsistent(stack, app, actor);
      expect([swept.files, swept.references, swept.quota?.reservedBytes]).toEqual([[], [], 0]);
    } finally {
      app.destroy();
    }
  });
});
