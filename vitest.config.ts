import { defineConfig } from 'vitest/config';
import { SLOW_MS } from './src/test/timeouts';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    globalSetup: ['src/test/global-setup.ts'],
    pool: 'forks',
    // GPU tests on a software adapter are slow; each file gets its own process and device. One
    // timeout for every test (src/test/timeouts.ts): tests are bounded by steps, and this only
    // catches a hang, sized for a 2-core machine at load average 8.
    testTimeout: SLOW_MS,
    hookTimeout: SLOW_MS,
    fileParallelism: true,
    maxWorkers: 2,
  },
});
