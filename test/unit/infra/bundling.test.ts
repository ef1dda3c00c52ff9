import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FUNCTION_ENTRIES } from '../../../infra/constructs/stowage-service.js';
import { StowageStack } from '../../../infra/stacks/stowage-stack.js';
import { removeTestOutdirs, testApp } from './support/synth.js';

afterAll(removeTestOutdirs);

/**
 * A regression guard, not the goal: the aim is 1 MB per API bundle (issue 3). It catches a
 * bundle that suddenly pulls in the world (the CDK, the local stack, a second SDK).
 */
const BUNDLE_BUDGET_BYTES = 1_500_000;

const bundles = new Map<string, string>();

beforeAll(() => {
  // The real thing: NodejsFunction runs the local esbuild for each entry point.
  const app = testApp({ bundle: true });
  new StowageStack(app, 'Bundled');
  const assembly = app.synth();
  const functions = Object.values(
    assembly.getStackByName('Bundled').template.Resources as Record<string, any>,
  ).filter(
    (r) =>
      r.Type === 'AWS::Lambda::Function' && String(r.Properties.Description ?? '').startsWith('Stowage '),
  );
  for (const [name, entry] of Object.entries(FUNCTION_ENTRIES)) {
    const fn = functions.find((f) => f.Properties.Description.includes(`(${entry})`));
    const hash = String(fn.Properties.Code.S3Key).replace(/\.zip$/, '');
    bundles.set(name, path.join(assembly.directory, `asset.${hash}`, 'index.mjs'));
  }
}, 180_000);

/** Runs a bundle in a fresh Node process, as a cold Lambda would load it. */
function runInNode(file: string, invoke: string): any {
  const script = `
    const started = performance.now();
    const mod = await import(${JSON.stringify(pathToFileURL(file).href)});
    const importMs = performance.now() - started;
    const result = await (${invoke})(mod);
    console.log(JSON.stringify({ importMs, result }));
  `;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    env: {
      PATH: process.env.PATH,
      // The SDK's Node 20 deprecation notice: true, and noise here.
      NODE_NO_WARNINGS: '1',
      AWS_REGION: 'eu-west-1',
      TABLE_NAME: 'stowage-table',
      UPLOADS_BUCKET: 'stowage-uploads',
      PREVIEW_BUCKET: 'stowage-previews',
      SECRETS_PREFIX: 'stowage/test',
    },
    encoding: 'utf8',
  });
  return JSON.parse(out.trim().split('\n').at(-1)!);
}

describe('function bundles (esbuild, minified ESM)', () => {
  it.each(Object.keys(FUNCTION_ENTRIES))('%s: one minified ES module within the size budget', (name) => {
    const file = bundles.get(name)!;
    const size = statSync(file).size;
    console.log(`bundle ${name}: ${size} bytes (${(size / 1024).toFixed(0)} KiB) minified`);
    const code = readFileSync(file, 'utf8');
    expect(code.startsWith("import { createRequire as __stowageCreateRequire } from 'node:module';")).toBe(
      true,
    );
    // Minified: very long lines (only template literals keep their line breaks).
    expect(size / code.split('\n').length).toBeGreaterThan(1000);
    expect(size).toBeLessThan(BUNDLE_BUDGET_BYTES);
  });

  it('the API bundle answers GET /v1/health in a fresh Node process', () => {
    const { importMs, result } = runInNode(
      bundles.get('api')!,
      `(m) => m.handler({ rawPath: '/v1/health', rawQueryString: '', headers: {}, isBase64Encoded: false,
           requestContext: { http: { method: 'GET' } } }, {})`,
    );
    console.log(`bundle api: imported in ${importMs.toFixed(0)} ms`);
    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body)).toEqual({ status: 'ok' });
  });

  it('the process-upload bundle answers an S3 test event with no failures', () => {
    const { importMs, result } = runInNode(
      bundles.get('processUpload')!,
      `(m) => m.handler({ Records: [{ messageId: 'm1', body: JSON.stringify({ Event: 's3:TestEvent' }) }] }, {})`,
    );
    console.log(`bundle processUpload: imported in ${importMs.toFixed(0)} ms`);
    expect(result).toEqual({ batchItemFailures: [] });
  });

  it('the maintenance bundle loads and exports its handler', () => {
    const { importMs, result } = runInNode(bundles.get('maintenance')!, '(m) => typeof m.handler');
    console.log(`bundle maintenance: imported in ${importMs.toFixed(0)} ms`);
    expect(result).toBe('function');
  });
});
