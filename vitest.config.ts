import { defineConfig } from 'vitest/config';

// Three projects: unit tests sit beside the code, integration tests start real servers
// (PostgreSQL + Redis and the embedded defaults), browser tests drive Debian's Chromium.
// Dongle discovery is off in every process a test starts unless the test turns it on for loopback or a
// network namespace it made: a broadcast on this machine's real interface would leave the machine.
// The device mesh is off too (it would listen on 0.0.0.0:9848); the mesh tests turn it on, on 127.0.0.1.
const env = { CANOPY_DISCOVERY: 'off', CANOPY_MESH: 'off' };
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['apps/*/src/**/*.test.ts', 'packages/*/src/**/*.test.ts', 'tools/*/src/**/*.test.ts'],
          environment: 'node',
          env,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['apps/*/test/**/*.test.ts', 'tools/*/test/**/*.test.ts'],
          exclude: ['apps/*/test/**/*.browser.test.ts'],
          environment: 'node',
          env,
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'browser',
          include: ['apps/*/test/**/*.browser.test.ts'],
          environment: 'node',
          env,
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
