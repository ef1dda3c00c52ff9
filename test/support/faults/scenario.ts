import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, inject } from 'vitest';
import type { Actor } from '../../../shared/domain/model.js';
import { newTenant } from '../api.js';
import { checkTenant } from './consistency.js';
import type { ApiAnswer, FaultStack, FaultyApp } from './fault-app.js';
import {
  type ArmedFault,
  FAULT_KINDS,
  FAULT_MARKER,
  type FaultKind,
  type FaultRule,
} from './fault-injector.js';

/**
 * How a step is made to fail. `transient`: one fault, then the SDK's retry succeeds.
 * `persistent`: every attempt fails, so the SDK gives up. `lost-once` / `lost-always`: storage
 * did the work and the answer was lost once (the retry meets the done work) or every time (the
 * caller is told the work failed although it happened).
 */
export type FaultMode =
  | { mode: 'transient'; kind: FaultKind }
  | { mode: 'persistent'; kind: FaultKind }
  | { mode: 'lost-once'; kind: FaultKind }
  | { mode: 'lost-always'; kind: FaultKind };

export const TRANSIENT: FaultMode[] = FAULT_KINDS.map((kind) => ({ mode: 'transient', kind }));
export const PERSISTENT: FaultMode[] = FAULT_KINDS.map((kind) => ({ mode: 'persistent', kind }));
/** Lost answers, as a reset while reading one, or a timeout waiting for it. */
export const LOST: FaultMode[] = [
  { mode: 'lost-once', kind: 'reset' },
  { mode: 'lost-always', kind: 'timeout' },
];
export const ALL_READ_MODES = [...TRANSIENT, ...PERSISTENT];
export const ALL_WRITE_MODES = [...TRANSIENT, ...PERSISTENT, ...LOST];

export const describeMode = (m: FaultMode) => `${m.mode} ${m.kind}`;

/**
 * Every step × mode pair, throttling first: the SDK backs off longest from it (and S3's adaptive
 * mode slows its client down after it), so started first it overlaps with the quick ones.
 */
export function slowestFirst<S extends { modes: FaultMode[] }>(steps: S[]): { step: S; mode: FaultMode }[] {
  const weight = (m: FaultMode) => (m.kind === 'throttle' ? (recovers(m) ? 1 : 2) : 0);
  return steps
    .flatMap((step) => step.modes.map((mode) => ({ step, mode })))
    .sort((a, b) => weight(b.mode) - weight(a.mode));
}

/** Whether the SDK's retries hide the fault from the caller. */
export const recovers = (m: FaultMode) => m.mode === 'transient' || m.mode === 'lost-once';

export type StepTarget = Pick<FaultRule, 'service' | 'operation' | 'inputIncludes' | 'skip'>;

export function ruleFor(target: StepTarget, m: FaultMode): FaultRule {
  return {
    ...target,
    kind: m.kind,
    point: m.mode.startsWith('lost') ? 'response' : 'request',
    times: m.mode.endsWith('once') || m.mode === 'transient' ? 1 : undefined,
  };
}

/** The armed fault fired as its mode says: it cannot pass for a scenario that tested nothing. */
export function expectFired(fault: ArmedFault, m: FaultMode) {
  if (recovers(m)) expect(fault.injected, `${fault.rule.operation} faulted once`).toBe(1);
  else expect(fault.injected, `${fault.rule.operation} faulted`).toBeGreaterThanOrEqual(1);
}

export const INTERNAL_BODY = { error: { code: 'INTERNAL', message: 'An internal error occurred.' } };

/** A bland 500 whose body names nothing of its cause (no SDK error, key, or injected message). */
export function expectInternal(answer: ApiAnswer) {
  expect(answer.status).toBe(500);
  expect(answer.body).toEqual(INTERNAL_BODY);
  for (const leak of [
    FAULT_MARKER,
    'ECONNRESET',
    'SlowDown',
    'Throughput',
    'Timeout',
    'InternalError',
    'tenants/',
  ])
    expect(answer.text).not.toContain(leak);
}

/** A tenant of its own (so its quota and objects are the scenario's alone), as an admin. */
export const newActor = (label: string): Actor => ({
  tenantId: newTenant(label),
  userId: 'alice',
  roles: ['admin'],
});

/**
 * Checks the tenant against every invariant and answers what it found, after asserting that no
 * invariant is broken and that the leftovers for a consistency check are exactly `strays`.
 */
export async function expectConsistent(
  stack: FaultStack,
  app: Pick<FaultyApp, 'tableName'>,
  actor: Actor,
  strays: (string | RegExp)[] = [],
) {
  const found = await checkTenant(stack, app.tableName, actor.tenantId);
  expect(found.broken).toEqual([]);
  expect(found.strays).toEqual(strays.map((s) => (typeof s === 'string' ? s : expect.stringMatching(s))));
  return found.state;
}

const OBJECT_STRAY = /^(stray object|object of rejected file) (\S+)$/;

/**
 * For leftovers only a consistency check can clean up: the maintenance handler in report mode
 * lists exactly the stray objects this check found (and nothing else wrong), and `fsck --fix`
 * removes them. (References of files that are gone are not the consistency check's business.)
 */
export async function expectConsistencyCheckRepairs(stack: FaultStack, app: FaultyApp, actor: Actor) {
  const found = await checkTenant(stack, app.tableName, actor.tenantId);
  const strayKeys = found.strays.flatMap((s) => OBJECT_STRAY.exec(s)?.[2] ?? []).sort();
  const report = await app.check(actor.tenantId);
  expect(report.objectsWithoutMetadata.map((o) => o.key).sort()).toEqual(strayKeys);
  expect(report.metadataWithoutObjects).toEqual([]);
  expect(report.quota.consistent).toBe(true);
  await app.services.consistency.check(actor.tenantId, { fix: true });
  const repaired = await checkTenant(stack, app.tableName, actor.tenantId);
  expect(repaired.broken).toEqual([]);
  expect(repaired.strays.filter((s) => OBJECT_STRAY.test(s))).toEqual([]);
}

/**
 * Counts the scenarios each fault test file runs and prints the total once every
 * `faults-*.test.ts` file of this run has reported (the files run in separate workers).
 */
export function scenarioTally(testFileUrl: string) {
  let count = 0;
  const file = basename(fileURLToPath(testFileUrl));
  return {
    scenario: () => {
      count += 1;
    },
    async report() {
      const runId = Buffer.from(inject('apiUrl')).toString('hex');
      const dir = join(tmpdir(), `stowage-fault-tally-${runId}`);
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, file), String(count));
      const reported = await readdir(dir);
      const all = (await readdir(join(fileURLToPath(testFileUrl), '..'))).filter((f) =>
        /^faults-.*\.test\.ts$/.test(f),
      );
      const counts = await Promise.all(
        reported.map(async (f) => Number(await readFile(join(dir, f), 'utf8'))),
      );
      const total = counts.reduce((a, b) => a + b, 0);
      console.log(`fault scenarios in ${file}: ${count}`);
      if (all.every((f) => reported.includes(f))) {
        console.log(`fault scenarios: ${total}`);
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}
