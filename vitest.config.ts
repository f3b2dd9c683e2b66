import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'rules/**/*.test.ts'],
    // The CLI tests spawn the compiled CLI, as users run it: build it once per run.
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 300_000,
    // Two cores: podman suites and unit suites share them.
    maxWorkers: 2,
  },
});
