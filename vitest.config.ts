import { defineConfig } from 'vitest/config';

// Two projects: `unit` (parsers, store, components: no lab, seconds) and `lab` (a real systemd
// booted for the run, and the end-to-end tests). `npx vitest run --project unit` is the quick
// loop; `npm test` runs both.
const UNIT = ['test/house/**/*.test.ts', 'test/core/**/*.test.ts', 'test/config/**/*.test.ts', 'test/store/**/*.test.ts', 'test/components/**/*.test.tsx'];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Lab tests boot real systemd instances; two workers fit these 2-core machines.
    maxWorkers: 2,
    // The JSON report lets .ci/run print its closing "N passed, N failed" line.
    reporters: ['default', 'json'],
    outputFile: { json: 'test-results/results.json' },
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: UNIT, setupFiles: ['test/support/setup.ts'] },
      },
      {
        extends: true,
        test: {
          name: 'lab',
          include: ['test/lab/**/*.test.ts', 'test/e2e/**/*.test.ts'],
          globalSetup: ['test/support/lab-global-setup.ts'],
          setupFiles: ['test/support/setup.ts'],
        },
      },
    ],
  },
});
