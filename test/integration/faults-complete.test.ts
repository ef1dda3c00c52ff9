import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { objectKeys } from '../../shared/domain/keys.js';
import type { Actor, FileRecord } from '../../shared/domain/model.js';
import type { TenantState } from '../support/faults/consistency.js';
import {
  composeFaultyApp,
  createFaultStack,
  type FaultStack,
  type FaultyApp,
} from '../support/faults/fault-app.js';
import {
  ALL_READ_MODES,
  ALL_WRITE_MODES,
  describeMode,
  expectConsistencyCheckRepairs,
  expectConsistent,
  expectFired,
  expectInternal,
  type FaultMode,
  LOST,
  newActor,
  PERSISTENT,
  recovers,
  ruleFor,
  type StepTarget,
  scenarioTally,
  slowestFirst,
  TRANSIENT,
} from '../support/faults/scenario.js';
import { completeCall, uploaded } from '../support/faults/uploads.js';
import { CSV, CSV_ONE_PART, PNG_1x1 } from '../support/samples.js';

/**
 * POST /v1/files/{fileId}/complete with faults on each storage call of the validation (API.md
 * sections 5 and 6), through the API handler in process. The answer is the settled file, or a
 * bland 500 with the upload still pending and its reservation whole, or, where storage did the
 * work and the answer was lost, a 500 after which the file is already settled; in every case the
 * client's next `complete` gives the settled file, and its bytes count once.
 */

vi.setConfig({ maxConcurrency: 20 });

const tally = scenarioTally(import.meta.url);
let stack: FaultStack;

beforeAll(async () => {
  stack = await createFaultStack('fc');
});
afterAll(() => tally.report());

/** What the first `complete` does. */
type Outcome =
  | 'settles' // 200 with the settled file
  | 'fails' // a bland 500; the upload is still pending, its reservation whole
  | 'fails-settled'; // a bland 500, but storage settled the file: the answer was lost

type Upload = 'csv' | 'csv-multipart-sha256' | 'csv-multipart' | 'png-as-pdf';

interface Step {
  name: string;
  upload: Upload;
  /** The fault's target; `{file}` and `{bucket}` in `inputIncludes` name this scenario's ids. */
  target: StepTarget;
  modes: FaultMode[];
  outcome: (m: FaultMode) => Outcome;
  /** What only a consistency check (fsck) would clean up afterwards, if anything. */
  leaves?: (m: FaultMode) => Leftover[];
}

/** `at-key`: the rejected object stays at its upload key; `quarantined`: a copy went to quarantine. */
type Leftover = 'at-key' | 'no-quarantine';

/** S3 may answer these two with `200 OK` and an `<Error>` body; the SDK must see through it. */
const ERROR_IN_200: FaultMode[] = [
  { mode: 'transient', kind: 'error-in-200' },
  { mode: 'persistent', kind: 'error-in-200' },
];

const settlesUnless = (m: FaultMode): Outcome => (recovers(m) ? 'settles' : 'fails');
const writeOutcome = (m: FaultMode): Outcome =>
  m.mode === 'lost-always' ? 'fails-settled' : settlesUnless(m);

const steps: Step[] = [
  {
    name: 'GetItem of the file',
    upload: 'csv',
    target: { service: 'dynamodb', operation: 'GetItem', inputIncludes: '{file}' },
    modes: ALL_READ_MODES,
    outcome: settlesUnless,
  },
  {
    name: 'GetItem of the bucket',
    upload: 'csv',
    target: { service: 'dynamodb', operation: 'GetItem', inputIncludes: '{bucket}' },
    modes: [TRANSIENT[1] as FaultMode, PERSISTENT[3] as FaultMode],
    outcome: settlesUnless,
  },
  {
    name: 'HeadObject',
    upload: 'csv',
    target: { service: 's3', operation: 'HeadObject' },
    modes: ALL_READ_MODES,
    outcome: settlesUnless,
  },
  {
    name: 'ranged GetObject of the first bytes',
    upload: 'csv',
    target: { service: 's3', operation: 'GetObject' },
    modes: [TRANSIENT[0], TRANSIENT[2], PERSISTENT[1], PERSISTENT[3]] as FaultMode[],
    outcome: settlesUnless,
  },
  {
    // Only where HEAD reports no full-object checksum: a multipart object (the embedded store
    // verifies and reports the sha256 of single uploads itself).
    name: 'GetObject streaming the bytes to check the sha256',
    upload: 'csv-multipart-sha256',
    // the ranged read passes; the full read after it fails
    target: { service: 's3', operation: 'GetObject', skip: 1 },
    modes: [TRANSIENT[2] as FaultMode, PERSISTENT[0] as FaultMode, PERSISTENT[3] as FaultMode],
    outcome: settlesUnless,
  },
  {
    name: 'TransactWriteItems activate (file active, reservation becomes used bytes, upload.completed event)',
    upload: 'csv',
    target: { service: 'dynamodb', operation: 'TransactWriteItems' },
    modes: ALL_WRITE_MODES,
    outcome: writeOutcome,
  },
  {
    name: 'CompleteMultipartUpload',
    upload: 'csv-multipart',
    target: { service: 's3', operation: 'CompleteMultipartUpload' },
    modes: [...ALL_WRITE_MODES, ...ERROR_IN_200],
    // Retried after a lost answer, storage says NoSuchUpload, and what is at the key is validated;
    // when every answer is lost, the object is assembled but the file stays pending until then.
    outcome: (m) => (m.mode === 'lost-once' ? 'settles' : settlesUnless(m)),
  },
  {
    name: 'TransactWriteItems reject (file rejected, reservation released)',
    upload: 'png-as-pdf',
    target: { service: 'dynamodb', operation: 'TransactWriteItems' },
    modes: ALL_WRITE_MODES,
    outcome: writeOutcome,
    // Rejected by the lost write, the file is settled before its object was moved: no later
    // `complete` or event moves it.
    leaves: (m) => (m.mode === 'lost-always' ? ['at-key', 'no-quarantine'] : []),
  },
  {
    name: 'CopyObject of the rejected object to quarantine',
    upload: 'png-as-pdf',
    target: { service: 's3', operation: 'CopyObject' },
    modes: [TRANSIENT[1], PERSISTENT[0], PERSISTENT[2], ...LOST, ...ERROR_IN_200] as FaultMode[],
    // The rejection stands (200); a quarantine that fails is logged, and the object still leaves
    // its place (issue 10: a failed quarantine never keeps it there).
    outcome: () => 'settles',
    leaves: (m) => (m.mode === 'persistent' ? ['no-quarantine'] : []),
  },
  {
    name: 'DeleteObject of the rejected object',
    upload: 'png-as-pdf',
    target: { service: 's3', operation: 'DeleteObject' },
    modes: [TRANSIENT[3], PERSISTENT[1], PERSISTENT[3], ...LOST] as FaultMode[],
    outcome: () => 'settles',
    leaves: (m) => (m.mode === 'persistent' ? ['at-key'] : []),
  },
];

async function start(app: FaultyApp, actor: Actor, upload: Upload) {
  const bucket = await app.services.buckets.create(actor, { name: 'Inbox' });
  const multipart = upload === 'csv-multipart' || upload === 'csv-multipart-sha256';
  const bytes = upload === 'png-as-pdf' ? PNG_1x1 : multipart ? CSV_ONE_PART : CSV;
  const started = await uploaded(app, actor, bucket.id, bytes, {
    contentType: upload === 'png-as-pdf' ? 'application/pdf' : 'text/csv',
    multipart,
    sha256: upload === 'csv-multipart-sha256' ? createHash('sha256').update(bytes).digest('hex') : undefined,
  });
  return { bucket, bytes, ...started };
}

/** The file settled once: active with its bytes used, or rejected with its bytes released. */
function expectSettled(state: TenantState, file: FileRecord, upload: Upload, leaves: Leftover[]) {
  const [settled] = state.files;
  expect(state.files).toHaveLength(1);
  if (upload === 'png-as-pdf') {
    expect(settled).toMatchObject({ status: 'rejected', rejectionReason: 'MIME_TYPE_MISMATCH' });
    expect(state.quota).toMatchObject({ usedBytes: 0, reservedBytes: 0, fileCount: 0 });
    expect(state.objects.has(file.objectKey)).toBe(leaves.includes('at-key'));
    const quarantine = objectKeys.quarantine(file.tenantId, file.bucketId, file.id);
    expect(state.quarantined).toEqual(leaves.includes('no-quarantine') ? [] : [quarantine]);
  } else {
    expect(settled).toMatchObject({ status: 'active' });
    expect(state.quota).toMatchObject({ usedBytes: file.size, reservedBytes: 0, fileCount: 1 });
  }
}

const strays = (file: FileRecord, leaves: Leftover[]) =>
  leaves.includes('at-key') ? [`object of rejected file ${file.objectKey}`] : [];

describe.concurrent('complete under storage faults', () => {
  for (const { step, mode } of slowestFirst(steps)) {
    const outcome = step.outcome(mode);
    const leaves = step.leaves?.(mode) ?? [];
    it(`${step.name}, ${describeMode(mode)}: ${outcome}${leaves.length ? ` (leaves ${leaves.join(', ')})` : ''}`, async () => {
      tally.scenario();
      const app = composeFaultyApp(stack);
      try {
        const actor = newActor('fc');
        const { bucket, file, parts } = await start(app, actor, step.upload);
        const inputIncludes = step.target.inputIncludes
          ?.replace('{file}', file.id)
          .replace('{bucket}', bucket.id);
        const fault = app.faults.arm(ruleFor({ ...step.target, inputIncludes }, mode));

        const answer = await completeCall(app, actor, file.id, parts);
        expectFired(fault, mode);
        app.faults.disarm();

        if (outcome === 'settles') {
          expect(answer.status).toBe(200);
          expect(answer.body.status).toBe(step.upload === 'png-as-pdf' ? 'rejected' : 'active');
          expectSettled(
            await expectConsistent(stack, app, actor, strays(file, leaves)),
            file,
            step.upload,
            leaves,
          );
          // Each thing left undone is logged as an error.
          if (leaves.includes('at-key'))
            expect(app.errors.map((e) => e.message)).toContain('rejected object not removed');
          if (leaves.includes('no-quarantine') && !leaves.includes('at-key'))
            expect(app.errors.map((e) => e.message)).toContain('rejected object not quarantined; deleted');
        } else {
          expectInternal(answer);
          const state = await expectConsistent(
            stack,
            app,
            actor,
            outcome === 'fails' ? [] : strays(file, leaves),
          );
          if (outcome === 'fails') {
            expect(state.files.map((f) => f.status)).toEqual(['pending']);
            expect(state.quota).toMatchObject({ reservedBytes: file.size, usedBytes: 0 });
            // a multipart upload's parts become the object only when storage completes it
            const assembled = step.upload !== 'csv-multipart' || mode.mode === 'lost-always';
            expect(state.objects.has(file.objectKey)).toBe(assembled);
          } else expectSettled(state, file, step.upload, leaves);
        }

        // The client completes again (the same call, after a 500 or after a 200): the same settled file.
        const again = await completeCall(app, actor, file.id, parts);
        expect(again.status).toBe(200);
        expect(again.body.status).toBe(step.upload === 'png-as-pdf' ? 'rejected' : 'active');
        expectSettled(
          await expectConsistent(stack, app, actor, strays(file, leaves)),
          file,
          step.upload,
          leaves,
        );
        // What no retry reaches, the consistency check (maintenance report mode, fsck --fix) does.
        if (leaves.includes('at-key')) await expectConsistencyCheckRepairs(stack, app, actor);
      } finally {
        app.destroy();
      }
    });
  }
});
