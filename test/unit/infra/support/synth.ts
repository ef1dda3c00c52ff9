import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import {
  deployedEntries,
  FUNCTION_ENTRIES,
  type StowageServiceProps,
} from '../../../../infra/constructs/stowage-service.js';
import { StowageStack } from '../../../../infra/stacks/stowage-stack.js';

export const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

/** The context `cdk synth` runs with (feature flags and stages), so tests synthesize the same. */
export const CDK_JSON_CONTEXT: Record<string, unknown> = JSON.parse(
  readFileSync(path.join(REPO_ROOT, 'cdk.json'), 'utf8'),
).context;

const outdirs: string[] = [];

/**
 * An App like the one `cdk synth` builds. Bundling is skipped (CDK's own
 * `aws:cdk:bundling-stacks` switch) unless asked for: only bundling.test.ts needs the code.
 * CDK's built-in CloudFormation validation (a few seconds per synth) runs only where asked:
 * nag.test.ts synthesizes every stage with it.
 */
export function testApp(
  options: { bundle?: boolean; cfnValidation?: boolean; context?: Record<string, unknown> } = {},
): App {
  const outdir = mkdtempSync(path.join(tmpdir(), 'cdk.out-stowage-test-'));
  outdirs.push(outdir);
  return new App({
    outdir,
    builtinCloudFormationValidation: options.cfnValidation ?? false,
    context: {
      ...CDK_JSON_CONTEXT,
      ...(options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }),
      ...options.context,
    },
  });
}

/** Removes the cloud assemblies the tests wrote; call from afterAll. */
export function removeTestOutdirs(): void {
  for (const dir of outdirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export interface Synthesized {
  stack: StowageStack;
  template: Template;
}

export function synthService(service: StowageServiceProps = {}, id = 'Test'): Synthesized {
  const app = testApp();
  const stack = new StowageStack(app, id, { service });
  return { stack, template: Template.fromStack(stack) };
}

type Resources = Record<string, { Type: string; Properties: Record<string, any>; [key: string]: any }>;

export const resourcesOf = (template: Template, type: string): Resources =>
  template.findResources(type) as Resources;

/** The logical id of the one resource of `type` matching `predicate`. */
export function onlyResource(template: Template, type: string, predicate: (r: any) => boolean) {
  const found = Object.entries(resourcesOf(template, type)).filter(([, r]) => predicate(r));
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
  const [id, resource] = found[0]!;
  return { id, resource };
}

/** The Lambda built from an entry point of FUNCTION_ENTRIES. */
export function functionFor(template: Template, entry: string) {
  return onlyResource(template, 'AWS::Lambda::Function', (r) =>
    String(r.Properties.Description ?? '').includes(`(${entry})`),
  );
}

export const ENTRIES = deployedEntries();

/** The statements of every IAM policy attached to a role. */
export function statementsOfRole(template: Template, roleLogicalId: string): any[] {
  return Object.values(resourcesOf(template, 'AWS::IAM::Policy'))
    .filter((p) => (p.Properties.Roles as any[]).some((r) => r.Ref === roleLogicalId))
    .flatMap((p) => p.Properties.PolicyDocument.Statement);
}

export const asArray = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

/**
 * Synthesizes the stack with real bundling (NodejsFunction runs the local esbuild for each entry
 * point) and answers where each function's bundle and the renderer layer landed.
 */
export function synthBundles(): { bundles: Map<string, string>; layerDir: string } {
  const app = testApp({ bundle: true });
  new StowageStack(app, 'Bundled');
  const assembly = app.synth();
  const resources = Object.values(
    assembly.getStackByName('Bundled').template.Resources as Record<string, any>,
  );
  const functions = resources.filter(
    (r) =>
      r.Type === 'AWS::Lambda::Function' && String(r.Properties.Description ?? '').startsWith('Stowage '),
  );
  const bundles = new Map<string, string>();
  for (const [name, entry] of Object.entries(FUNCTION_ENTRIES)) {
    const fn = functions.find((f) => f.Properties.Description.includes(`(${entry})`));
    const hash = String(fn.Properties.Code.S3Key).replace(/\.zip$/, '');
    bundles.set(name, path.join(assembly.directory, `asset.${hash}`, 'index.mjs'));
  }
  const layer = resources.find(
    (r) => r.Type === 'AWS::Lambda::LayerVersion' && String(r.Properties.Description).includes('render host'),
  );
  const layerDir = path.join(
    assembly.directory,
    `asset.${String(layer.Properties.Content.S3Key).replace(/\.zip$/, '')}`,
  );
  return { bundles, layerDir };
}
