import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Actor, EntityRef, FileRecord } from '../../shared/domain/model.js';
import type { TenantState } from '../support/faults/consistency.js';
import {
  type ApiAnswer,
  composeFaultyApp,
  createFaultStack,
  type FaultStack,
  type FaultyApp,
} from '../support/faults/fault-app.js';
import {
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
import { CSV, PNG_1x1 } from '../support/samples.js';
import { manualClock } from '../support/second-app.js';

/**
 * The rest of a file's life under storage faults: soft delete, restore, deletion of a rejected
 * file and abandonment of a pending upload through the API handler in process; the purge of
 * soft-deleted files and the sweep of expired uploads through the maintenance handler. Each
 * either succeeds after the SDK's retries, or fails cleanly (a bland 500, a maintenance error)
 * leaving the state consistent, and the client's retry or the next maintenance run converges.
 */

vi.setConfig({ maxConcurrency: 20 });

const tally = scenarioTally(import.meta.url);
const ticket: EntityRef = { entityType: 'ticket', entityId: 'T-1' };
const MINUTE = 60_000;
/** Upload URL lifetime (1 h) and the sweep's grace (1 h) have passed. */
const PAST_EXPIRY_MS = 2 * 3_600_000 + MINUTE;
let stack: FaultStack;

beforeAll(async () => {
  stack = await createFaultStack('fl');
});
afterAll(() => tally.report());

/** The file a scenario starts from. */
type Start = 'active' | 'deleted' | 'rejected' | 'pending-with-bytes' | 'pending-without-bytes';

interface Context {
  app: FaultyApp;
  actor: Actor;
  file: FileRecord;
  clock: ReturnType<typeof manualClock>;
}

interface Operation {
  name: string;
  start: Start;
  /** A maintenance run scans its whole table: such operations get a table of their own. */
  maintenance?: boolean;
  act(ctx: Context): Promise<ApiAnswer | { report: Awaited<ReturnType<FaultyApp['maintenance']>> }>;
  /** What the API answers when the operation is asked again once done. */
  again?: number;
  /** The file's metadata once the operation is done (objects and references: `expectConsistent`). */
  done(state: TenantState, ctx: Context): void;
  steps: { name: string; target: StepTarget; modes: FaultMode[]; expect: (m: FaultMode) => Expectation }[];
}

interface Expectation {
  /** The first call succeeds (after the SDK's retries), fails cleanly, or answers 409. */
  first: 'succeeds' | 'fails' | 'conflict';
  /** Whether storage did the operation's work although the call failed (a lost answer). */
  doneAnyway?: boolean;
  /** The client's retry (or the next maintenance run): does the work, or finds it done. */
  retry: 'does-it' | 'already-done';
  /** Leftovers only a consistency check would clean up (as `expectConsistent` strays), after the first call. */
  strays?: (ctx: Context) => (string | RegExp)[];
  /** Leftovers after the retry, when they differ from the first ones. */
  straysAtEnd?: (ctx: Context) => (string | RegExp)[];
}

const ok: Expectation = { first: 'succeeds', retry: 'already-done' };
const failsThenRetried: Expectation = { first: 'fails', retry: 'does-it' };
const strayObject = (ctx: Context) => `stray object ${ctx.file.objectKey}`;
const strayReference = (ctx: Context) => `reference of missing file ${ctx.file.id} ticket#T-1`;

const api = (method: string, path: (ctx: Context) => string) => (ctx: Context) =>
  ctx.app.api(ctx.actor, method, path(ctx));
const maintenanceAfter = (ms: number) => async (ctx: Context) => {
  ctx.clock.advance(ms);
  return { report: await ctx.app.maintenance() };
};

const operations: Operation[] = [
  {
    name: 'DELETE /v1/files/{id} (soft delete)',
    start: 'active',
    act: api('DELETE', (c) => `/v1/files/${c.file.id}`),
    again: 204,
    done: (state, c) => {
      expect(state.files.map((f) => f.status)).toEqual(['deleted']);
      expect(state.quota).toMatchObject({ usedBytes: c.file.size, fileCount: 1 });
    },
    steps: [
      {
        // The file's change and its file.deleted event: one transaction (the outbox).
        name: 'TransactWriteItems softDelete',
        target: { service: 'dynamodb', operation: 'TransactWriteItems', inputIncludes: 'file.deleted' },
        modes: ALL_WRITE_MODES,
        // Retried after a lost answer, the condition fails: the file is deleted, which is what was asked.
        expect: (m) =>
          recovers(m)
            ? ok
            : m.mode === 'lost-always'
              ? { first: 'fails', doneAnyway: true, retry: 'already-done' }
              : failsThenRetried,
      },
      {
        name: 'GetItem of the file',
        target: { service: 'dynamodb', operation: 'GetItem', inputIncludes: '{file}' },
        modes: [TRANSIENT[0] as FaultMode, PERSISTENT[2] as FaultMode],
        expect: (m) => (recovers(m) ? ok : failsThenRetried),
      },
    ],
  },
  {
    name: 'POST /v1/files/{id}/restore',
    start: 'deleted',
    act: api('POST', (c) => `/v1/files/${c.file.id}/restore`),
    again: 409,
    done: (state, c) => {
      expect(state.files.map((f) => [f.status, f.deletedAt])).toEqual([['active', null]]);
      expect(state.quota).toMatchObject({ usedBytes: c.file.size, fileCount: 1 });
    },
    steps: [
      {
        name: 'TransactWriteItems restore',
        target: { service: 'dynamodb', operation: 'TransactWriteItems', inputIncludes: 'file.restored' },
        modes: ALL_WRITE_MODES,
        // Retried after a lost answer the condition fails; the service reads the file back and,
        // finding it active, answers 200: this very request restored it.
        expect: (m) =>
          m.mode === 'transient'
            ? ok
            : m.mode === 'persistent'
              ? failsThenRetried
              : {
                  first: m.mode === 'lost-once' ? 'succeeds' : 'fails',
                  doneAnyway: true,
                  retry: 'already-done',
                },
      },
    ],
  },
  {
    name: 'DELETE /v1/files/{id} of a rejected file',
    start: 'rejected',
    act: api('DELETE', (c) => `/v1/files/${c.file.id}`),
    again: 404,
    done: (state) => expect([state.files, state.quota?.usedBytes]).toEqual([[], 0]),
    steps: [
      {
        name: 'TransactWriteItems removeRejected',
        target: { service: 'dynamodb', operation: 'TransactWriteItems', inputIncludes: 'file.deleted' },
        modes: ALL_WRITE_MODES,
        expect: (m) =>
          recovers(m)
            ? ok
            : m.mode === 'lost-always'
              ? { first: 'fails', doneAnyway: true, retry: 'already-done' }
              : // its reference items went first; the record still lists them until the retry
                {
                  ...failsThenRetried,
                  strays: (c) => [`file refs without reference item ${c.file.id} ticket#T-1`],
                },
      },
      {
        name: 'BatchWriteItem deleting its references',
        target: { service: 'dynamodb', operation: 'BatchWriteItem' },
        modes: [TRANSIENT[3] as FaultMode, PERSISTENT[1] as FaultMode],
        expect: (m) => (recovers(m) ? ok : failsThenRetried),
      },
    ],
  },
  {
    name: 'DELETE /v1/files/{id}/upload (abandon)',
    start: 'pending-with-bytes',
    act: api('DELETE', (c) => `/v1/files/${c.file.id}/upload`),
    again: 404,
    done: (state) => expect([state.files, state.quota?.reservedBytes]).toEqual([[], 0]),
    steps: [
      {
        name: 'TransactWriteItems abandon (record, reservation)',
        target: { service: 'dynamodb', operation: 'TransactWriteItems' },
        modes: ALL_WRITE_MODES,
        // Every answer lost: the record is read back, found gone, and cleaned up after.
        expect: (m) => (recovers(m) || m.mode === 'lost-always' ? ok : failsThenRetried),
      },
      {
        name: 'DeleteObject of its bytes',
        target: { service: 's3', operation: 'DeleteObject' },
        modes: [TRANSIENT[0], TRANSIENT[3], PERSISTENT[1], PERSISTENT[2]] as FaultMode[],
        expect: (m) =>
          recovers(m)
            ? ok
            : { first: 'fails', doneAnyway: true, retry: 'already-done', strays: (c) => [strayObject(c)] },
      },
      {
        name: 'BatchWriteItem deleting its references',
        target: { service: 'dynamodb', operation: 'BatchWriteItem' },
        modes: [TRANSIENT[2] as FaultMode, PERSISTENT[0] as FaultMode],
        expect: (m) =>
          recovers(m)
            ? ok
            : { first: 'fails', doneAnyway: true, retry: 'already-done', strays: (c) => [strayReference(c)] },
      },
    ],
  },
  {
    name: 'maintenance: purge of a soft-deleted file',
    start: 'deleted',
    maintenance: true,
    act: maintenanceAfter(MINUTE),
    done: (state) =>
      expect([state.files, state.quota?.usedBytes, state.quota?.fileCount]).toEqual([[], 0, 0]),
    steps: [
      {
        name: 'Scan of the sweep index',
        target: { service: 'dynamodb', operation: 'Scan' },
        modes: [TRANSIENT[0] as FaultMode, PERSISTENT[1] as FaultMode],
        expect: (m) => (recovers(m) ? ok : failsThenRetried),
      },
      {
        name: 'GetItem of the bucket (its retention)',
        target: { service: 'dynamodb', operation: 'GetItem' },
        modes: [TRANSIENT[2] as FaultMode, PERSISTENT[3] as FaultMode],
        expect: (m) => (recovers(m) ? ok : failsThenRetried),
      },
      {
        name: 'TransactWriteItems purge (record, used bytes)',
        target: { service: 'dynamodb', operation: 'TransactWriteItems' },
        modes: ALL_WRITE_MODES,
        expect: (m) => (recovers(m) || m.mode === 'lost-always' ? ok : failsThenRetried),
      },
      {
        name: 'DeleteObject of its bytes',
        target: { service: 's3', operation: 'DeleteObject' },
        modes: [TRANSIENT[0], TRANSIENT[3], PERSISTENT[1], PERSISTENT[2]] as FaultMode[],
        expect: (m) =>
          recovers(m)
            ? ok
            : { first: 'fails', doneAnyway: true, retry: 'already-done', strays: (c) => [strayObject(c)] },
      },
      {
        name: 'BatchWriteItem deleting its references',
        target: { service: 'dynamodb', operation: 'BatchWriteItem' },
        modes: [TRANSIENT[1] as FaultMode, PERSISTENT[2] as FaultMode],
        expect: (m) =>
          recovers(m)
            ? ok
            : { first: 'fails', doneAnyway: true, retry: 'already-done', strays: (c) => [strayReference(c)] },
      },
    ],
  },
  {
    name: 'maintenance: an expired upload whose event was lost is validated',
    start: 'pending-with-bytes',
    maintenance: true,
    act: maintenanceAfter(PAST_EXPIRY_MS),
    done: (state, c) => {
      expect(state.files.map((f) => f.status)).toEqual(['active']);
      expect(state.quota).toMatchObject({ usedBytes: c.file.size, reservedBytes: 0, fileCount: 1 });
    },
    steps: [
      {
        name: 'HeadObject',
        target: { service: 's3', operation: 'HeadObject' },
        modes: [TRANSIENT[1] as FaultMode, PERSISTENT[0] as FaultMode, PERSISTENT[3] as FaultMode],
        expect: (m) => (recovers(m) ? ok : failsThenRetried),
      },
      {
        name: 'TransactWriteItems activate',
        target: { service: 'dynamodb', operation: 'TransactWriteItems' },
        modes: [PERSISTENT[2] as FaultMode, ...LOST],
        expect: (m) =>
          recovers(m)
            ? ok
            : m.mode === 'lost-always'
              ? { first: 'fails', doneAnyway: true, retry: 'already-done' }
              : failsThenRetried,
      },
    ],
  },
  {
    name: 'maintenance: an expired upload whose bytes never came is abandoned',
    start: 'pending-without-bytes',
    maintenance: true,
    act: maintenanceAfter(PAST_EXPIRY_MS),
    done: (state) => expect([state.files, state.quota?.reservedBytes]).toEqual([[], 0]),
    steps: [
      {
        name: 'TransactWriteItems abandon',
        target: { service: 'dynamodb', operation: 'TransactWriteItems' },
        modes: [TRANSIENT[3] as FaultMode, PERSISTENT[0] as FaultMode, ...LOST],
        expect: (m) => (recovers(m) || m.mode === 'lost-always' ? ok : failsThenRetried),
      },
      {
        name: 'Query of its references',
        target: { service: 'dynamodb', operation: 'Query' },
        modes: [TRANSIENT[2] as FaultMode, PERSISTENT[1] as FaultMode],
        expect: (m) =>
          recovers(m)
            ? ok
            : { first: 'fails', doneAnyway: true, retry: 'already-done', strays: (c) => [strayReference(c)] },
      },
    ],
  },
];

/** Brings a fresh file of the tenant to `start` (no faults armed), with a reference to the ticket. */
async function startFrom(app: FaultyApp, actor: Actor, start: Start): Promise<FileRecord> {
  const bucket = await app.services.buckets.create(actor, { name: 'Inbox', retentionDays: 0 });
  const references = [ticket];
  if (start === 'pending-without-bytes')
    return (
      await app.services.uploads.initiate(actor, bucket.id, {
        filename: 'never.csv',
        contentType: 'text/csv',
        size: CSV.length,
        references,
      })
    ).file;
  const bytes = start === 'rejected' ? PNG_1x1 : CSV;
  const contentType = start === 'rejected' ? 'application/pdf' : 'text/csv';
  const { file } = await uploaded(app, actor, bucket.id, bytes, { contentType, references });
  if (start === 'pending-with-bytes') return file;
  const settled = await completeCall(app, actor, file.id);
  expect(settled.body.status).toBe(start === 'rejected' ? 'rejected' : 'active');
  if (start === 'deleted') await app.services.files.delete(actor, file.id);
  return file;
}

const scenarios = operations.flatMap((operation) =>
  slowestFirst(operation.steps).map(({ step, mode }) => ({ operation, step, mode })),
);

describe.concurrent('file lifecycle under storage faults', () => {
  for (const { operation, step, mode } of scenarios) {
    const expectation = step.expect(mode);
    it(`${operation.name}: ${step.name}, ${describeMode(mode)}: ${expectation.first}, then ${expectation.retry}`, async () => {
      tally.scenario();
      const clock = manualClock();
      const tableName = operation.maintenance ? await stack.newTable() : undefined;
      const app = composeFaultyApp(stack, { tableName, clock });
      try {
        const actor = newActor('fl');
        const file = await startFrom(app, actor, operation.start);
        const ctx: Context = { app, actor, file, clock };
        // A clean failure must leave the files and quota as they were: read them to compare.
        const unchanged = expectation.first !== 'succeeds' && !expectation.doneAnyway;
        const before = unchanged ? await expectConsistent(stack, app, actor) : null;
        const inputIncludes = step.target.inputIncludes?.replace('{file}', file.id);
        const fault = app.faults.arm(ruleFor({ ...step.target, inputIncludes }, mode));

        const first = await settle(operation.act(ctx));
        expectFired(fault, mode);
        app.faults.disarm();
        expectFirst(first, expectation.first);
        const strays = expectation.strays?.(ctx) ?? [];
        const after = await expectConsistent(stack, app, actor, strays);
        if (before) expect([after.files, after.quota]).toEqual([before.files, before.quota]);
        else operation.done(after, ctx);

        // The client calls again, or the schedule runs maintenance again, with storage recovered.
        const retry = await settle(operation.act(ctx));
        expectRetry(retry, expectation.retry, operation.again);
        const atEnd = expectation.straysAtEnd?.(ctx) ?? (expectation.retry === 'does-it' ? [] : strays);
        operation.done(await expectConsistent(stack, app, actor, atEnd), ctx);
        // What no retry reaches, the consistency check (maintenance report mode, fsck --fix) does.
        if (atEnd.length > 0) await expectConsistencyCheckRepairs(stack, app, actor);
      } finally {
        app.destroy();
      }
    });
  }
});

type Settled =
  | { answer: ApiAnswer }
  | { report: Awaited<ReturnType<FaultyApp['maintenance']>> }
  | { thrown: unknown };

async function settle(call: ReturnType<Operation['act']>): Promise<Settled> {
  try {
    const result = await call;
    return 'report' in result ? result : { answer: result };
  } catch (thrown) {
    return { thrown };
  }
}

/** An API answer is 2xx, a bland 500 or a 409; a maintenance run reports its errors, or (a failed scan) throws. */
function expectFirst(result: Settled, first: Expectation['first']) {
  if ('answer' in result) {
    if (first === 'succeeds') expect(result.answer.status).toBeLessThan(300);
    else if (first === 'conflict') expect(result.answer.body.error.code).toBe('CONFLICT');
    else expectInternal(result.answer);
  } else if ('report' in result) {
    expect(result.report.errors).toBe(first === 'succeeds' ? 0 : 1);
  } else {
    expect(first).toBe('fails');
    expect(result.thrown).toBeInstanceOf(Error);
  }
}

function expectRetry(result: Settled, retry: Expectation['retry'], again: number | undefined) {
  if ('thrown' in result) throw result.thrown;
  if ('report' in result) {
    expect(result.report.errors).toBe(0);
    const work = result.report.purged + result.report.abandoned + result.report.validated;
    expect(work).toBe(retry === 'does-it' ? 1 : 0);
  } else if (retry === 'does-it') expect(result.answer.status).toBeLessThan(300);
  else expect(result.answer.status).toBe(again);
}
