import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  filename,
  filenameVerdict,
  getAt,
  hostileText,
  JsonPairs,
  jsonText,
  NOT_OBJECTS,
  NUMBER_TOKENS,
  pathSegment,
  RawJson,
  rewrittenSegment,
  setAt,
  UNKNOWN_KEYS,
  wrongValues,
} from '../support/hostile/arbitraries.js';
import { auditTenant } from '../support/hostile/audit.js';
import { checkAnswer, type Expectation, exact } from '../support/hostile/contract.js';
import {
  activeCsv,
  makeBucket,
  makeProvider,
  must,
  pendingFile,
  uploadFile,
} from '../support/hostile/fixtures.js';
import { getUrl, type RawAnswer, sendRaw } from '../support/hostile/http.js';
import {
  expectationFor,
  MiB,
  numberVerdict,
  type Probe,
  ROUTER_BODY_LIMIT,
  stringVerdict,
  type Verdict,
} from '../support/hostile/oracle.js';
import {
  type ApiRoute,
  apiRoutes,
  type FieldSpec,
  fieldsOf,
  fillPath,
  integerBounds,
  routeLabel,
  routesWithBody,
  routesWithParams,
} from '../support/hostile/route-table.js';
import { DECLARED, EXECUTABLE_TYPES, essence, SPOOFS } from '../support/hostile/spoofs.js';
import {
  type Caller,
  type HostileTenant,
  hostileTenant,
  roleExpectation,
  Tally,
} from '../support/hostile/tenant.js';
import { VALID_BODIES, validBody } from '../support/hostile/valid-bodies.js';
import { CSV } from '../support/samples.js';
import { uploadsBucket } from '../support/storage.js';

/**
 * Hostile input at every route of the route table, through the local stack's HTTP server
 * (issue 5, API.md sections 0, 1, 5, 7, 8 and 10). Each case is checked against an oracle
 * written from API.md, never against the service's own rules; after the run every tenant
 * must hold only what a 201 created, and its quota must equal the sum of its files.
 *
 * Replay a run with HOSTILE_SEED=<seed>; scale the number of cases with HOSTILE_SCALE.
 */
const SEED = process.env.HOSTILE_SEED
  ? Number(process.env.HOSTILE_SEED)
  : Math.floor(Math.random() * 2 ** 31);
const SCALE = Number(process.env.HOSTILE_SCALE ?? 1);
const tally = new Tally();
const started = Date.now();

async function property<T>(
  category: string,
  arb: fc.Arbitrary<T>,
  numRuns: number,
  check: (value: T) => Promise<void>,
  examples: T[] = [],
): Promise<void> {
  await fc.assert(
    fc.asyncProperty(arb, async (value) => {
      tally.add(category);
      await check(value);
    }),
    {
      seed: SEED,
      // fast-check counts the examples within numRuns
      numRuns: examples.length + Math.max(1, Math.round(numRuns * SCALE)),
      examples: examples.map((e) => [e] as [T]),
      endOnFailure: true,
    },
  );
}

const callerArb: fc.Arbitrary<Caller> = fc.oneof(
  { arbitrary: fc.constantFrom<Caller>('admin', 'member', 'viewer'), weight: 9 },
  { arbitrary: fc.constantFrom<Caller>('none', 'anonymous'), weight: 2 },
);

const exists = (t: HostileTenant) => (id: string) =>
  id === 'default' || t.ledger.files.has(id) || t.ledger.buckets.has(id) || t.ledger.providers.has(id);

const show = (body: string | Uint8Array | undefined) =>
  body === undefined
    ? 'none'
    : typeof body === 'string'
      ? `${body.length} chars ${JSON.stringify(body.slice(0, 160))}`
      : `${body.byteLength} bytes`;

/** Sends one request, works out what API.md says the answer must be, and checks it. */
async function attempt(
  t: HostileTenant,
  probe: Omit<Probe, 'exists' | 'bodyBytes'> & { bodyText?: string | Uint8Array; expected?: Expectation },
): Promise<RawAnswer> {
  const bodyBytes =
    probe.bodyText === undefined
      ? 0
      : typeof probe.bodyText === 'string'
        ? Buffer.byteLength(probe.bodyText)
        : probe.bodyText.byteLength;
  const expected = probe.expected ?? expectationFor({ ...probe, bodyBytes, exists: exists(t) });
  const answer = await t.send(probe.caller, probe.method, probe.path, probe.bodyText);
  checkAnswer(
    answer,
    expected,
    `${probe.caller}@${t.label} ${probe.method} ${probe.path.slice(0, 300)} body=${show(probe.bodyText)}`,
  );
  return answer;
}

// ---- tenants and what they hold ----

let ids: HostileTenant; // hostile path parameters
let bodies: HostileTenant; // hostile bodies
let names: HostileTenant; // filenames and Content-Disposition
let mime: HostileTenant; // MIME spoofs
let queries: HostileTenant; // query strings and cursors
let victim: HostileTenant; // owns the ids the attacker tries
let attacker: HostileTenant;

const UNKNOWN: Record<string, string> = {
  fileId: 'NoSuchFile',
  bucketId: 'NoSuchBucket',
  providerId: 'NoSuchProvider',
  entityType: 'ticket',
  entityId: 'T-none',
  userId: 'nobody',
};
const fill =
  (fillers: Record<string, string>) =>
  (route: ApiRoute, over: Record<string, string> = {}) =>
    fillPath(route, { ...UNKNOWN, ...fillers, ...over });

let idsPath: ReturnType<typeof fill>;
let bodiesPath: (route: ApiRoute) => string;
let queriesFillers: Record<string, string>;
let namesBucket: string;
let mimeBuckets: { open: string; restricted: string };
let victimIds: { files: string[]; buckets: string[]; providers: string[]; secretUser: string };
let victimBefore: unknown;
let attackerFillers: Record<string, string>;

const snapshot = async (t: HostileTenant) => {
  const get = async (path: string) => must(await t.json('admin', 'GET', path), 200, path);
  return {
    files: await get('/v1/files?limit=1000'),
    deleted: await get('/v1/files?limit=1000&status=deleted'),
    buckets: await get('/v1/buckets'),
    providers: await get('/v1/providers'),
    quota: await get('/v1/quota'),
    grants: await get('/v1/entities/ticket/V-1/grants'),
    entityFiles: await get('/v1/entities/ticket/V-1/files'),
  };
};

beforeAll(async () => {
  console.log(`hostile seed: ${SEED} (replay with HOSTILE_SEED=${SEED})`);
  [ids, bodies, names, mime, queries, victim, attacker] = await Promise.all([
    hostileTenant('ids'),
    hostileTenant('bodies'),
    hostileTenant('names'),
    hostileTenant('mime'),
    hostileTenant('queries'),
    hostileTenant('victim'),
    hostileTenant('attacker'),
  ]);

  const idsBucket = await makeBucket(ids, { name: 'ids' });
  const idsFile = await activeCsv(ids, idsBucket.id, 'ids.csv', [{ entityType: 'ticket', entityId: 'T-1' }]);
  const idsProvider = await makeProvider(ids, 'ids provider');
  idsPath = fill({
    fileId: idsFile.id,
    bucketId: idsBucket.id,
    providerId: idsProvider.id,
    entityId: 'T-1',
    userId: 'bob',
  });

  const patchTarget = await makeBucket(bodies, { name: 'patch target' });
  const uploadTarget = await makeBucket(bodies, { name: 'upload target' });
  const waiting = await pendingFile(bodies, uploadTarget.id);
  bodiesPath = (route) =>
    fillPath(route, {
      ...UNKNOWN,
      bucketId: route.method === 'PATCH' ? patchTarget.id : uploadTarget.id,
      fileId: waiting.file.id,
      entityId: 'T-1',
      userId: 'bob',
    });

  namesBucket = (await makeBucket(names, { name: 'names' })).id;
  mimeBuckets = {
    open: (await makeBucket(mime, { name: 'open' })).id,
    restricted: (
      await makeBucket(mime, { name: 'pdf and png', allowedMimeTypes: ['application/pdf', 'image/png'] })
    ).id,
  };

  // The victim: one of everything, referenced and granted.
  const vBucket = await makeBucket(victim, { name: 'victim files' });
  const vRestricted = await makeBucket(victim, { name: 'victim restricted', restricted: true });
  const vProvider = await makeProvider(victim, 'victim provider');
  const vActive = await activeCsv(victim, vBucket.id, 'secret.csv', [
    { entityType: 'ticket', entityId: 'V-1' },
  ]);
  const vDeleted = await activeCsv(victim, vRestricted.id, 'deleted.csv', [
    { entityType: 'ticket', entityId: 'V-1' },
  ]);
  // Previews are drawn ahead in the background: let them settle first (an ask while one is
  // drawn answers 202), so the snapshot holds only what no attack may change.
  await Promise.all([vActive.id, vDeleted.id].map((id) => previewSettled(victim, id)));
  must(await victim.json('member', 'DELETE', `/v1/files/${vDeleted.id}`), 204, 'delete');
  const vPending = await pendingFile(victim, vBucket.id);
  const vRejected = await uploadFile(victim, vBucket.id, {
    filename: 'fake.pdf',
    contentType: 'application/pdf',
    bytes: CSV,
  });
  expect(vRejected.status).toBe('rejected');
  const secretUser = 'victim-secret-user';
  must(
    await victim.json('admin', 'PUT', `/v1/entities/ticket/V-1/grants/${secretUser}`, { access: 'read' }),
    204,
    'grant',
  );
  victimIds = {
    files: [vActive.id, vDeleted.id, vPending.file.id, vRejected.id],
    buckets: [vBucket.id, vRestricted.id],
    providers: [vProvider.id],
    secretUser,
  };
  victimBefore = await snapshot(victim);
  const attackerBucket = await makeBucket(attacker, { name: 'attacker' });
  attackerFillers = { entityType: 'ticket', entityId: 'V-1', userId: 'bob', bucketId: attackerBucket.id };

  const qBucket = await makeBucket(queries, { name: 'queries' });
  await makeBucket(queries, { name: 'queries two' });
  await makeProvider(queries, 'q one');
  await makeProvider(queries, 'q two');
  const qFiles = [];
  for (const n of [1, 2, 3])
    qFiles.push(
      await activeCsv(queries, qBucket.id, `q${n}.csv`, [{ entityType: 'ticket', entityId: 'Q-1' }]),
    );
  for (const user of ['bob', 'carol'])
    must(
      await queries.json('admin', 'PUT', `/v1/entities/ticket/Q-1/grants/${user}`, { access: 'read' }),
      204,
      'grant',
    );
  queriesFillers = {
    fileId: qFiles[0].id,
    bucketId: qBucket.id,
    providerId: [...queries.ledger.providers][0] as string,
    entityType: 'ticket',
    entityId: 'Q-1',
    userId: 'bob',
  };
}, 120_000);

afterAll(() => {
  console.log(`${tally.summary()} in ${((Date.now() - started) / 1000).toFixed(1)} s, seed ${SEED}`);
});

// ---- the route table itself ----

describe('the attack surface', () => {
  it('is every route of the route table, as the served OpenAPI document lists them', async () => {
    const doc = (await sendRaw(inject('apiUrl'), { method: 'GET', path: '/v1/openapi.json' })).body;
    const methods = new Set(['get', 'put', 'post', 'patch', 'delete']);
    const documented = Object.entries(doc.paths as Record<string, object>)
      .flatMap(([path, item]) =>
        Object.keys(item)
          .filter((m) => methods.has(m))
          .map((m) => `${m.toUpperCase()} ${path}`),
      )
      .sort();
    expect(apiRoutes.map(routeLabel).sort()).toEqual(documented);
  });

  it('has a full valid sample of every body schema, so every field gets attacked', () => {
    for (const route of routesWithBody) {
      expect(VALID_BODIES[route.bodyId ?? ''], `a sample for ${route.bodyId}`).toBeDefined();
      const sample = validBody(route.bodyId, 0);
      for (const field of fieldsOf(route.body ?? {}))
        expect(getAt(sample, field.path), `${routeLabel(route)} ${field.path.join('.')}`).not.toBeUndefined();
    }
  });
});

// ---- path parameters ----

describe('hostile path parameters', () => {
  it('answers traversal, encoded traversal, controls, bidi and overlong ids with 400 or 404', async () => {
    const required = [
      '..%2f',
      '%2e%2e%2f',
      '%252e',
      '%252e%252e%252f',
      'a/b',
      '%2f',
      '%5c',
      '%00',
      '%0d%0a',
      '%e2%80%ae',
      'x'.repeat(65),
      '%ZZ',
    ];
    const examples = routesWithParams.flatMap((route) =>
      route.params.flatMap((param, pick) =>
        required.map((segment) => ({ route, pick, param, segment, caller: 'admin' as Caller, n: 0 })),
      ),
    );
    const arb = fc
      .oneof(
        { weight: 12, arbitrary: fc.record({ segment: pathSegment, caller: callerArb }) },
        { weight: 1, arbitrary: fc.record({ segment: rewrittenSegment, caller: callerArb }) },
      )
      .chain((c) =>
        fc.record({
          route: fc.constantFrom(...routesWithParams),
          pick: fc.nat(),
          segment: fc.constant(c.segment),
          caller: fc.constant(c.caller),
          n: fc.nat(),
        }),
      )
      .map((c) => ({ ...c, param: c.route.params[c.pick % c.route.params.length] as string }));
    await property(
      'ids',
      arb,
      700,
      async ({ route, param, segment, caller, n }) => {
        const body = route.body ? JSON.stringify(validBody(route.bodyId, n)) : undefined;
        await attempt(ids, {
          caller,
          method: route.method,
          path: idsPath(route, { [param]: segment }),
          intended: route,
          body: 'valid',
          bodyText: body,
        });
      },
      examples,
    );
  }, 120_000);
});

// ---- bodies ----

const objectPaths = (route: ApiRoute): (string | number)[][] => [
  [],
  ...fieldsOf(route.body ?? {})
    .filter((f) => f.types.has('object'))
    .map((f) => f.path),
];

const withKey = (sample: unknown, at: (string | number)[], key: string, value: unknown) =>
  setAt(sample, at, new JsonPairs([...Object.entries(getAt(sample, at) as object), [key, value]]));

describe('hostile bodies', () => {
  const wrongTypeCases = routesWithBody.flatMap((route) =>
    fieldsOf(route.body ?? {}).flatMap((field) =>
      wrongValues(field.types).map((value) => ({ route, field, value })),
    ),
  );

  it('answers a wrong JSON type in every field of every body schema with 400', async () => {
    const send = async (
      { route, field, value }: (typeof wrongTypeCases)[number],
      caller: Caller,
      n: number,
    ) => {
      const body = jsonText(setAt(validBody(route.bodyId, n), field.path, new RawJson(value)));
      await attempt(bodies, {
        caller,
        method: route.method,
        path: bodiesPath(route),
        intended: route,
        body: 'invalid',
        bodyText: body,
      });
    };
    const arb = fc.record({ c: fc.constantFrom(...wrongTypeCases), caller: callerArb, n: fc.nat() });
    await property(
      'bodies',
      arb,
      300,
      ({ c, caller, n }) => send(c, caller, n),
      wrongTypeCases.map((c) => ({ c, caller: 'admin' as Caller, n: 0 })),
    );
  }, 120_000);

  it('answers unknown keys (__proto__ too) and bodies that are not JSON objects with 400', async () => {
    const arb = fc.oneof(
      fc.record({
        route: fc.constantFrom(...routesWithBody),
        kind: fc.constant('key' as const),
        key: fc.constantFrom(...UNKNOWN_KEYS),
        at: fc.nat(),
        caller: callerArb,
        n: fc.nat(),
      }),
      fc.record({
        route: fc.constantFrom(...routesWithBody),
        kind: fc.constant('text' as const),
        key: fc.constantFrom(...NOT_OBJECTS),
        at: fc.nat(),
        caller: callerArb,
        n: fc.nat(),
      }),
    );
    await property('bodies', arb, 250, async ({ route, kind, key, at, caller, n }) => {
      const sample = validBody(route.bodyId, n);
      const paths = objectPaths(route);
      const body =
        kind === 'text'
          ? key
          : jsonText(withKey(sample, paths[at % paths.length] ?? [], key, { admin: true }));
      await attempt(bodies, {
        caller,
        method: route.method,
        path: bodiesPath(route),
        intended: route,
        body: 'invalid',
        bodyText: body,
      });
    });
  }, 120_000);

  it('answers hostile text in string fields with 2xx or the route’s 4xx', async () => {
    const stringFields = routesWithBody.flatMap((route) =>
      fieldsOf(route.body ?? {})
        .filter((f) => f.types.has('string'))
        .map((field) => ({ route, field })),
    );
    const arb = fc.record({
      c: fc.constantFrom(...stringFields),
      text: hostileText,
      caller: callerArb,
      n: fc.nat(),
    });
    await property('strings', arb, 400, async ({ c: { route, field }, text, caller, n }) => {
      const body = jsonText(setAt(validBody(route.bodyId, n), field.path, text));
      await attempt(bodies, {
        caller,
        method: route.method,
        path: bodiesPath(route),
        intended: route,
        body: stringVerdict(field.node, text),
        bodyText: body,
      });
    });
  }, 120_000);

  it('answers huge, negative, fractional, unsafe and textual numbers by the schema bounds', async () => {
    const intFields = routesWithBody.flatMap((route) =>
      fieldsOf(route.body ?? {})
        .map((field) => ({ route, field, bounds: integerBounds(field.node) }))
        .filter((c) => c.bounds !== null),
    );
    const examples = intFields.flatMap((c) =>
      NUMBER_TOKENS.map((token) => ({ c, token, caller: 'admin' as Caller, n: 0 })),
    );
    const arb = fc.record({
      c: fc.constantFrom(...intFields),
      token: fc.constantFrom(...NUMBER_TOKENS),
      caller: callerArb,
      n: fc.nat(),
    });
    await property(
      'numbers',
      arb,
      150,
      async ({ c: { route, field, bounds }, token, caller, n }) => {
        const body = jsonText(setAt(validBody(route.bodyId, n), field.path, new RawJson(token)));
        await attempt(bodies, {
          caller,
          method: route.method,
          path: bodiesPath(route),
          intended: route,
          body: numberVerdict(bounds!, token),
          bodyText: body,
        });
      },
      examples,
    );
  }, 120_000);

  it('lets the last of duplicate keys win, as JSON.parse does, and never fails on them', async () => {
    const keyed = routesWithBody.flatMap((route) =>
      fieldsOf(route.body ?? {})
        .filter((f) => typeof f.path.at(-1) === 'string')
        .map((field) => ({ route, field })),
    );
    const arb = fc.record({
      c: fc.constantFrom(...keyed),
      first: fc.constantFrom('valid', 'wrong', 'other'),
      last: fc.constantFrom('valid', 'wrong', 'other'),
      caller: callerArb,
      n: fc.nat(),
      w: fc.nat(),
    });
    await property('duplicate-keys', arb, 250, async ({ c: { route, field }, first, last, caller, n, w }) => {
      const sample = validBody(route.bodyId, n);
      const key = field.path.at(-1) as string;
      const occurrence = (kind: string, tag: string): { json: unknown; verdict: Verdict; plain?: string } => {
        if (kind === 'wrong') {
          const options = wrongValues(field.types);
          return { json: new RawJson(options[w % options.length] as string), verdict: 'invalid' };
        }
        // another valid value where the field is free text, else the sample's own value
        const own = getAt(sample, field.path);
        if (kind === 'other' && (key === 'filename' || key === 'name')) {
          const plain = `dup ${tag} ${n}`;
          return { json: plain, verdict: 'valid', plain };
        }
        return { json: own, verdict: 'valid', plain: typeof own === 'string' ? own : undefined };
      };
      const a = occurrence(first, 'first');
      const b = occurrence(last, 'last');
      const parentPath = field.path.slice(0, -1);
      const parent = getAt(sample, parentPath) as Record<string, unknown>;
      const entries = Object.entries(parent).map(([k, v]) => [k, k === key ? a.json : v] as const);
      const body = jsonText(setAt(sample, parentPath, new JsonPairs([...entries, [key, b.json]])));
      const answer = await attempt(bodies, {
        caller,
        method: route.method,
        path: bodiesPath(route),
        intended: route,
        body: b.verdict,
        bodyText: body,
      });
      if (answer.status < 300 && b.plain !== undefined && field.path.length === 1) {
        if (key === 'filename') expect(answer.body.file.originalName, body).toBe(b.plain);
        // A file's `name` (PATCH, API.md 13.3) comes back as its `originalName`.
        if (key === 'name')
          expect(
            route.bodyId === 'UpdateFileRequest' ? answer.body.originalName : answer.body.name,
            body,
          ).toBe(b.plain);
      }
    });
  }, 120_000);

  it('answers deeply nested bodies (10k levels of [ and more) without falling over', async () => {
    const arb = fc.record({
      route: fc.constantFrom(...apiRoutes),
      depth: fc.constantFrom(1_000, 10_000, 100_000, 400_000),
      shape: fc.constantFrom('arrays', 'open-arrays', 'objects', 'mixed'),
      inField: fc.boolean(),
      caller: callerArb,
      n: fc.nat(),
    });
    await property('nesting', arb, 40, async ({ route, depth, shape, inField, caller, n }) => {
      const d = shape === 'objects' || shape === 'mixed' ? Math.min(depth, 100_000) : depth;
      const nested =
        shape === 'arrays'
          ? `${'['.repeat(d)}${']'.repeat(d)}`
          : shape === 'open-arrays'
            ? '['.repeat(d)
            : shape === 'objects'
              ? `${'{"a":'.repeat(d)}1${'}'.repeat(d)}`
              : `${'[{"a":'.repeat(d / 2)}1${'}]'.repeat(d / 2)}`;
      const sample = validBody(route.bodyId, n);
      const first = Object.keys(sample)[0];
      const body = inField && first ? jsonText(setAt(sample, [first], new RawJson(nested))) : nested;
      await attempt(bodies, {
        caller,
        method: route.method,
        path: fillPath(route, UNKNOWN),
        intended: route,
        body: 'invalid',
        bodyText: body,
      });
    });
  }, 120_000);

  it('answers very large bodies (up to 8 MiB) with 400, after the role check', async () => {
    const sizes = [MiB - 64, MiB + 1, 2 * MiB - 64, 2 * MiB + 1, 3 * MiB, 5 * MiB, 8 * MiB];
    const arb = fc.record({
      route: fc.constantFrom(...apiRoutes),
      size: fc.constantFrom(...sizes),
      kind: fc.constantFrom('padded', 'long-string', 'not-json'),
      caller: callerArb,
      n: fc.nat(),
    });
    await property('large-bodies', arb, 24, async ({ route, size, kind, caller, n }) => {
      const sample = validBody(route.bodyId, n);
      const fields = fieldsOf(route.body ?? {}).filter((f) => f.types.has('string') && f.path.length === 1);
      const field: FieldSpec | undefined = fields[n % Math.max(1, fields.length)];
      let text: string;
      let verdict: Verdict = 'unknown';
      if (kind === 'padded') {
        const core = JSON.stringify(sample);
        text = `${' '.repeat(Math.max(0, size - core.length))}${core}`;
        verdict = 'valid';
      } else if (kind === 'long-string' && field) {
        const long = 'a'.repeat(size);
        text = jsonText(setAt(sample, field.path, long));
        verdict = stringVerdict(field.node, long);
      } else {
        text = '\u00ff'.repeat(size / 2);
        verdict = 'invalid';
      }
      if (!route.body || Buffer.byteLength(text) > ROUTER_BODY_LIMIT)
        verdict = route.body ? 'invalid' : 'unknown';
      await attempt(bodies, {
        caller,
        method: route.method,
        path: fillPath(route, UNKNOWN),
        intended: route,
        body: verdict,
        bodyText: text,
      });
    });
  }, 120_000);
});

// ---- filenames and Content-Disposition ----

describe('hostile filenames', () => {
  it('refuses the names section 10 refuses, and keeps the others as NFC', async () => {
    const examples = [
      'e\u0301',
      'A\u030a.pdf',
      '\u212b',
      'e\u0301'.repeat(100),
      `${'\u00e9'.repeat(127)}x`,
      '\u00e9'.repeat(128),
      'x'.repeat(255),
      'x'.repeat(256),
      '.',
      '..',
      '   ',
      '',
      'a/b',
      'a\\b',
      '../../etc/passwd',
      '..\\..\\boot.ini',
      'a\u0000.pdf',
      'a\r\nb.pdf',
      'a\u0085b',
      'cod\u202eexe.pdf',
      'x\u2066y',
      'half\ud800.pdf',
    ].map((name) => ({ name, caller: 'member' as Caller, abandon: true, size: 1 }));
    const arb = fc.record({
      name: filename,
      caller: fc.constantFrom<Caller>('member', 'member', 'admin', 'viewer'),
      abandon: fc.boolean(),
      size: fc.nat({ max: 1000 }),
    });
    let nfd = 0;
    await property(
      'filenames',
      arb,
      400,
      async ({ name, caller, abandon, size }) => {
        const route = routesWithBody.find((r) => r.operationId === 'initiateUpload') as ApiRoute;
        const verdict = filenameVerdict(name);
        const path = fillPath(route, { bucketId: namesBucket });
        const role = roleExpectation(caller, route);
        const expected =
          role ??
          (verdict.ok
            ? exact(201, '', 'a name section 10 accepts')
            : exact(400, 'VALIDATION_FAILED', verdict.why));
        const answer = await attempt(names, {
          caller,
          method: 'POST',
          path,
          intended: route,
          body: verdict.ok ? 'valid' : 'invalid',
          bodyText: JSON.stringify({ filename: name, contentType: 'text/plain', size }),
          expected,
        });
        if (answer.status !== 201 || !verdict.ok) return;
        if (name !== verdict.stored) nfd++;
        expect(answer.body.file.originalName, JSON.stringify(name)).toBe(verdict.stored);
        const stored = await names.json('member', 'GET', `/v1/files/${answer.body.file.id}`);
        expect(stored.body.originalName).toBe(verdict.stored);
        if (abandon)
          must(
            await names.json('member', 'DELETE', `/v1/files/${answer.body.file.id}/upload`),
            204,
            'abandon',
          );
      },
      examples,
    );
    console.log(`filenames: ${nfd} non-NFC names accepted and stored as NFC`);
  }, 120_000);

  it('never lets a filename inject into Content-Disposition', async () => {
    const injection = fc
      .array(
        fc.constantFrom(
          '"',
          "'",
          ';',
          '=',
          '*',
          '%',
          '%0d%0a',
          '\\"',
          'filename="x.html"',
          "filename*=UTF-8''x.html",
          ' ',
          'Set-Cookie: a=b',
          '\u2028',
          'é',
          'e\u0301',
          '\u{1f600}',
          '漢',
          'report',
          '.csv',
          '<',
          '>',
          ',',
          '\u00a0',
        ),
        { minLength: 1, maxLength: 8 },
      )
      .map((p) => p.join(''));
    const arb = fc.record({
      name: fc.oneof(injection, filename).filter((n) => filenameVerdict(n).ok),
      method: fc.constantFrom<'PUT' | 'POST'>('PUT', 'POST'),
    });
    await property('content-disposition', arb, 40, async ({ name, method }) => {
      const stored = (filenameVerdict(name) as { stored: string }).stored;
      const file = await uploadFile(names, namesBucket, {
        filename: name,
        contentType: 'text/csv',
        bytes: CSV,
        method,
      });
      expect(file.status).toBe('active');
      const download = must(
        await names.json('viewer', 'GET', `/v1/files/${file.id}/download`),
        200,
        'download',
      );
      const got = await getUrl(download.url);
      expect(got.status).toBe(200);
      expect(got.bytes.equals(CSV)).toBe(true);
      const values = got.rawHeaders.filter(
        (_, i) => i % 2 === 1 && /^content-disposition$/i.test(got.rawHeaders[i - 1] ?? ''),
      );
      expect(values, JSON.stringify(got.rawHeaders)).toHaveLength(1);
      const header = values[0] as string;
      expect(/[\r\n]/.test(header) || header.includes(String.fromCharCode(0))).toBe(false);
      const m = /^attachment; filename="([\x20-\x7e]*)"; filename\*=UTF-8''([A-Za-z0-9!#$&+.^_`|~%-]*)$/.exec(
        header,
      );
      expect(m, header).not.toBeNull();
      const fallback = m?.[1] as string;
      expect(fallback).not.toMatch(/["\\]/);
      expect(decodeURIComponent(m?.[2] as string)).toBe(stored);
      expect(got.rawHeaders.map((h) => h.toLowerCase())).not.toContain('set-cookie');
      expect(got.headers['content-type']).toBe('text/csv');
    });
  }, 120_000);
});

// ---- other tenants' ids ----

describe('ids of another tenant', () => {
  it('answers every route given another tenant’s real ids with 404, never 403, never its data', async () => {
    const forbidden = () => [
      ...victimIds.files,
      ...victimIds.buckets,
      ...victimIds.providers,
      victimIds.secretUser,
    ];
    const listRoutes = apiRoutes.filter((r) => r.method === 'GET' && r.query);
    const arb = fc.oneof(
      fc.record({
        kind: fc.constant('path' as const),
        route: fc.constantFrom(...routesWithParams),
        pick: fc.nat(),
        caller: callerArb,
        n: fc.nat(),
      }),
      fc.record({
        kind: fc.constant('query' as const),
        route: fc.constantFrom(...listRoutes),
        pick: fc.nat(),
        caller: callerArb,
        n: fc.nat(),
      }),
      fc.record({
        kind: fc.constant('body' as const),
        route: fc.constantFrom(...routesWithBody.filter((r) => r.operationId === 'createBucket')),
        pick: fc.nat(),
        caller: callerArb,
        n: fc.nat(),
      }),
    );
    const examples = routesWithParams.map((route) => ({
      kind: 'path' as const,
      route,
      pick: 0,
      caller: 'admin' as Caller,
      n: 0,
    }));
    await property(
      'other-tenant',
      arb,
      300,
      async ({ kind, route, pick, caller, n }) => {
        const choose = (list: string[]) => list[(pick + n) % list.length] as string;
        const theirs: Record<string, string> = {
          fileId: choose(victimIds.files),
          bucketId: choose(victimIds.buckets),
          providerId: choose(victimIds.providers),
        };
        let path = fillPath(route, { ...UNKNOWN, ...attackerFillers, ...(kind === 'path' ? theirs : {}) });
        let body: string | undefined = route.body ? JSON.stringify(validBody(route.bodyId, n)) : undefined;
        if (kind === 'query') {
          const props = Object.keys(route.query?.properties ?? {});
          const q = props.filter((p) => p in theirs).map((p) => `${p}=${theirs[p]}`);
          if (props.includes('entityType')) q.push('entityType=ticket', 'entityId=V-1');
          path = `${path}?${q.join('&')}`;
        }
        let expected: Expectation | undefined;
        if (kind === 'body') {
          body = JSON.stringify({ ...validBody(route.bodyId, n), providerId: theirs.providerId });
          expected = roleExpectation(caller, route) ?? exact(404, 'NOT_FOUND', 'another tenant’s provider');
        }
        const answer = await attempt(attacker, {
          caller,
          method: route.method,
          path,
          intended: route,
          body: 'valid',
          bodyText: body,
          expected,
        });
        // A 403 for a grant on an entity (a name, not a resource) is the attacker's own business.
        const namesTheirs = kind === 'body' || (kind === 'path' && route.params.some((p) => p in theirs));
        if (namesTheirs && roleExpectation(caller, route) === null && answer.status === 403)
          throw new Error(`403 for another tenant's resource: ${route.method} ${path}`);
        for (const id of forbidden())
          expect(answer.text, `${route.method} ${path} leaks ${id}`).not.toContain(id);
      },
      examples,
    );
  }, 120_000);
});

// ---- MIME spoofs ----

describe('MIME spoofs', () => {
  it('rejects executables, HTML, SVG and polyglots declared as PDF or PNG, or serves them inert', async () => {
    const store = uploadsBucket();
    const passed = new Set<string>();
    const arb = fc.record({
      spoof: fc.constantFrom(...SPOOFS),
      declared: fc.constantFrom(...DECLARED),
      method: fc.constantFrom<'PUT' | 'POST'>('PUT', 'POST'),
      restricted: fc.boolean(),
      tail: fc.uint8Array({ maxLength: 32 }),
    });
    const examples = SPOOFS.flatMap((spoof) =>
      (['application/pdf', 'image/png'] as const).map((declared) => ({
        spoof,
        declared,
        method: 'PUT' as const,
        restricted: false,
        tail: new Uint8Array(),
      })),
    );
    await property(
      'mime-spoofs',
      arb,
      30,
      async ({ spoof, declared, method, restricted, tail }) => {
        const bytes = Buffer.concat([spoof.bytes, tail]);
        const bucketId = restricted ? mimeBuckets.restricted : mimeBuckets.open;
        const claimed = essence(declared);
        // API.md section 6, in its order: detected type not allowed, then contradiction or missing signature.
        const announced = spoof.announces;
        const expected =
          restricted && announced !== null && !['application/pdf', 'image/png'].includes(announced)
            ? 'MIME_TYPE_NOT_ALLOWED'
            : announced !== claimed
              ? 'MIME_TYPE_MISMATCH'
              : null;
        const file = await uploadFile(mime, bucketId, {
          filename: 'innocent.pdf',
          contentType: declared,
          bytes,
          method,
        });
        const what = `${spoof.name} declared ${declared} in the ${restricted ? 'restricted' : 'open'} bucket`;
        if (expected) {
          expect(file, what).toMatchObject({ status: 'rejected', rejectionReason: expected });
          const dl = await mime.json('member', 'GET', `/v1/files/${file.id}/download`);
          checkAnswer(dl, exact(409, 'CONFLICT', 'a rejected file'), `download of ${what}`);
          // When the storage event rejected it first, complete answers while the object is moved.
          await expect
            .poll(() => store.head(`tenants/${mime.id}/${bucketId}/${file.id}`), { timeout: 5_000 })
            .toBeNull();
          return;
        }
        // A polyglot whose first bytes really are the declared type passes: it is served inert.
        passed.add(spoof.name);
        expect(file, what).toMatchObject({ status: 'active', mimeType: claimed });
        const dl = must(await mime.json('viewer', 'GET', `/v1/files/${file.id}/download`), 200, 'download');
        const got = await getUrl(dl.url);
        expect(got.headers['content-type'], what).toBe(claimed);
        expect(got.headers['content-type'], what).not.toMatch(EXECUTABLE_TYPES);
        expect(got.headers['content-disposition'], what).toMatch(/^attachment;/);
        if (got.headers['x-content-type-options'] !== undefined)
          expect(got.headers['x-content-type-options']).toBe('nosniff');
      },
      examples,
    );
    console.log(
      `mime spoofs that passed detection and are served inert: ${[...passed].join(', ') || 'none'}`,
    );
  }, 120_000);
});

// ---- query strings ----

describe('hostile query strings', () => {
  const listRoutes = () => apiRoutes.filter((r) => r.method === 'GET' && r.query?.properties?.cursor);
  const HINTS: Record<string, string[]> = {
    type: ['upload.initiated'],
    mimeType: ['text/csv'],
    status: ['active'],
  };

  interface Found {
    route: ApiRoute;
    filters: string;
    cursor: string;
    from: 'own' | 'victim';
  }

  async function cursorsOf(t: HostileTenant, fillers: Record<string, string>, from: Found['from']) {
    const out: Found[] = [];
    const targets: { route: ApiRoute; filters: string }[] = [];
    for (const route of listRoutes()) {
      const props = route.query?.properties ?? {};
      const sets = [''];
      for (const key of Object.keys(props)) {
        if (['limit', 'cursor', 'entityType', 'entityId'].includes(key)) continue;
        for (const v of fillers[key] ? [fillers[key]] : (HINTS[key] ?? []))
          sets.push(`${key}=${encodeURIComponent(v)}`);
      }
      if ('entityType' in props) sets.push(`entityType=${fillers.entityType}&entityId=${fillers.entityId}`);
      for (const filters of sets) {
        targets.push({ route, filters });
        const path = `${fillPath(route, { ...UNKNOWN, ...fillers })}?${filters}${filters ? '&' : ''}limit=1`;
        const page = await t.json('admin', 'GET', path);
        if (page.status === 200 && page.body.nextCursor)
          out.push({ route, filters, cursor: page.body.nextCursor, from });
      }
    }
    return { found: out, targets };
  }

  it('answers garbage, foreign and other queries’ cursors with 400, and never shows foreign data', async () => {
    const own = await cursorsOf(queries, queriesFillers, 'own');
    const theirs = await cursorsOf(
      victim,
      {
        ...queriesFillers,
        ...attackerFillers,
        entityId: 'V-1',
        fileId: victimIds.files[0] as string,
        bucketId: victimIds.buckets[0] as string,
        providerId: victimIds.providers[0] as string,
      },
      'victim',
    );
    expect(own.found.length).toBeGreaterThan(5);
    const garbage = fc.oneof(
      fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }).filter((s) => s.isWellFormed()),
      fc.uint8Array({ minLength: 1, maxLength: 60 }).map((b) => Buffer.from(b).toString('base64url')),
      fc
        .constantFrom(
          '{}',
          '[]',
          'null',
          '"x"',
          '{"k":[],"d":""}',
          '{"k":["T#x","F"],"d":"AAAAAAAAAAAAAAAAAAAAAA"}',
          '{"after":1}',
          '{"after":null}',
          '{"e":"ticket#Q-1"}',
        )
        .map((j) => Buffer.from(j).toString('base64url')),
      fc.constantFrom('%%%', '=', '...', 'A'.repeat(4096), 'a'.repeat(4097)),
      // A signed cursor of this tenant with one character changed (not the last, whose low
      // bits base64url may drop), or cut short.
      fc
        .constantFrom(...own.found.map((f) => f.cursor).filter((c) => unsignedCursor(c) === null))
        .chain((c) => fc.tuple(fc.constant(c), fc.nat({ max: c.length - 2 }), fc.boolean()))
        .map(([c, i, cut]) =>
          cut ? c.slice(0, i + 1) : `${c.slice(0, i)}${c[i] === 'A' ? 'B' : 'A'}${c.slice(i + 1)}`,
        ),
    );
    const arb = fc.record({
      target: fc.constantFrom(...own.targets),
      source: fc.oneof(
        fc.constantFrom(...own.found),
        fc.constantFrom(...(theirs.found.length ? theirs.found : own.found)),
        garbage.map((cursor) => ({ cursor, from: 'garbage' as const })),
      ),
      limit: fc.integer({ min: 1, max: 1000 }),
      caller: callerArb,
    });
    const cases = arb;
    await property('cursors', cases, 300, async ({ target, source, limit, caller }) => {
      const same =
        'route' in source &&
        source.from === 'own' &&
        source.route === target.route &&
        source.filters === target.filters;
      const verdict: Verdict = same ? 'valid' : source.from === 'victim' ? 'unknown' : 'invalid';
      const path = `${fillPath(target.route, { ...UNKNOWN, ...queriesFillers })}?${target.filters}${target.filters ? '&' : ''}limit=${limit}&cursor=${encodeURIComponent(source.cursor)}`;
      const answer = await attempt(queries, {
        caller,
        method: 'GET',
        path,
        intended: target.route,
        body: 'valid',
        cursor: verdict,
      });
      if (same && roleExpectation(caller, target.route) === null) expect(answer.status, path).toBe(200);
      if (source.from === 'victim')
        for (const id of [...victimIds.files, victimIds.secretUser])
          expect(answer.text, `${path} leaks ${id}`).not.toContain(id);
    });
  }, 120_000);

  it('answers unknown, repeated, out-of-range and hostile parameters with 400', async () => {
    const limits = [
      '0',
      '1',
      '2',
      '50',
      '1000',
      '1001',
      '-1',
      '-0',
      '1.5',
      '1e3',
      '0x10',
      ' 5',
      '05',
      '+5',
      'NaN',
      'Infinity',
      '1e400',
      '9007199254740993',
      '٣',
      '１',
      'abc',
      '10abc',
      '',
    ];
    const hostileValue = fc.oneof(
      hostileText.filter((s) => s.isWellFormed() && s.length < 2000),
      fc.constantFrom(...limits),
    );
    const entry = (route: ApiRoute) => {
      const known = Object.keys(route.query?.properties ?? {}).filter((k) => k !== 'cursor');
      const good = (key: string) => {
        const node = route.query?.properties?.[key];
        if (node?.enum) return fc.constantFrom(...(node.enum as string[]));
        if (key === 'limit') return fc.integer({ min: 1, max: 1000 }).map(String);
        if (queriesFillers[key]) return fc.constant(queriesFillers[key] as string);
        return fc.constantFrom(...(HINTS[key] ?? ['x']));
      };
      return fc.oneof(
        ...(known.length
          ? [
              fc.constantFrom(...known).chain((k) => good(k).map((v) => [k, v] as const)),
              fc.tuple(fc.constantFrom(...known), hostileValue),
              fc.tuple(fc.constantFrom(...known), fc.constant('')),
            ]
          : []),
        fc.tuple(
          fc.oneof(
            fc.constantFrom(
              'colour',
              'LIMIT',
              'limit ',
              'limit[]',
              'cursor[]',
              '__proto__',
              'constructor',
              'toString',
              'hasOwnProperty',
              'tenant_id',
              'tenantId',
              'redirect',
              'x',
            ),
            fc.string({ unit: 'binary', minLength: 1, maxLength: 8 }).filter((s) => s.isWellFormed()),
          ),
          fc.constantFrom('1', 'x', ''),
        ),
      );
    };
    const arb = fc.constantFrom(...apiRoutes).chain((route) =>
      fc.record({
        route: fc.constant(route),
        entries: fc.array(entry(route), { maxLength: 4 }),
        repeat: fc.boolean(),
        raw: fc.constantFrom('', '&', '&&', '&%ZZ=1', '&a=%', '&=x', '&limit', '&+=+'),
        caller: callerArb,
      }),
    );
    await property('queries', arb, 450, async ({ route, entries, repeat, raw, caller }) => {
      const list =
        repeat && entries.length > 0 ? [...entries, entries[0] as readonly [string, string]] : entries;
      const query = list.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&') + raw;
      const fillers = route.method === 'GET' ? queriesFillers : {};
      const path = `${fillPath(route, { ...UNKNOWN, ...fillers })}?${query}`;
      await attempt(queries, { caller, method: route.method, path, intended: route, body: 'unknown' });
    });
  }, 120_000);
});

/** Asks for a file's preview until it is no longer being drawn. */
async function previewSettled(t: HostileTenant, fileId: string) {
  for (let ask = 0; ask < 200; ask++) {
    if ((await t.json('admin', 'GET', `/v1/files/${fileId}/preview`)).status !== 202) return;
    await new Promise((go) => setTimeout(go, 100));
  }
  throw new Error(`the preview of ${fileId} is still being drawn after 20 s`);
}

/** The payload of a cursor that carries a plain id (`{ after, e? }`), or null for any other. */
function unsignedCursor(cursor: string): { after: string; e?: string } | null {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    return typeof value?.after === 'string' ? value : null;
  } catch {
    return null;
  }
}

// ---- what is left ----

describe('after the run', () => {
  it('leaves the other tenant as it was', async () => {
    expect(await snapshot(victim)).toEqual(victimBefore);
  });

  it('holds only what a 201 created, objects only for live files, and quotas equal to the files', async () => {
    const problems = (
      await Promise.all([ids, bodies, names, mime, queries, victim, attacker].map(auditTenant))
    ).flat();
    expect(problems).toEqual([]);
  }, 120_000);
});
