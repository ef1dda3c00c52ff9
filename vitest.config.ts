import { defineConfig } from 'vitest/config';

/**
 * Two projects: `unit` (pure rules and services with in-memory fakes, no servers) and
 * `integration` (adapters and handlers against the embedded S3 store and DynamoDB Local,
 * started once per run by the global setup).
 */
export default defineConfig({
  // Workspace packages resolve to their TypeScript sources inside the repository (their
  // `exports` carry this condition first); installed from a tarball they resolve to `dist/`.
  resolve: { conditions: ['@stowage/source'] },
  ssr: { resolve: { conditions: ['@stowage/source'] } },
  test: {
    projects: [
      // Some unit tests start a render process or bundle with esbuild: on 2 busy cores, 5 s is tight.
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'], testTimeout: 30_000 } },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          pool: 'forks',
        },
      },
    ],
  },
});
