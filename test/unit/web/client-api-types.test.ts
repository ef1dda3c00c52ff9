import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLIENT_API_TYPES, clientApiTypes, servedOpenApi } from '../../../web/build/client-api-types.js';
import { repoRoot } from '../../support/package-tarball.js';

describe('the client API types (web/client/api-types.ts)', () => {
  it('are what `npm run generate:client` makes of the OpenAPI document the service serves', async () => {
    // Prepare
    const checkedIn = await readFile(join(repoRoot, CLIENT_API_TYPES), 'utf8');
    // Act
    const generated = await clientApiTypes();
    // Assess: a schema changed without regenerating the client fails here.
    expect(generated === checkedIn, 'web/client/api-types.ts is stale: run `npm run generate:client`').toBe(
      true,
    );
  });

  it('change when a schema does', async () => {
    // Prepare: the served document with one more field on File, as a schema change would give.
    const doc = await servedOpenApi();
    const file = doc.components?.schemas?.File as { properties: Record<string, unknown>; required: string[] };
    file.properties.retainedUntil = { type: 'string', format: 'date-time' };
    file.required.push('retainedUntil');
    // Act
    const generated = await clientApiTypes(doc);
    // Assess
    expect(generated).not.toBe(await readFile(join(repoRoot, CLIENT_API_TYPES), 'utf8'));
    expect(generated).toContain('retainedUntil: string;');
  });
});
