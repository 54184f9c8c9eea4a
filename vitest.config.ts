import { defineConfig } from 'vitest/config';

// Four projects: unit tests sit beside the code, integration tests start real servers
// (PostgreSQL + Redis and the embedded defaults), browser tests drive Debian's Chromium. `load`: the relay's
// end-to-end runs at a full CAN bus each way through real nodes and dongle simulators, whose UDP hops lose
// datagrams when other test files starve those processes of CPU; they run one at a time, after the rest.
// Dongle discovery is off in every process a test starts unless the test turns it on for loopback or a
// network namespace it made: a broadcast on this machine's real interface would leave the machine.
// The device mesh is off too (it would listen on 0.0.0.0:9848); the mesh tests turn it on, on 127.0.0.1.
const env = { CANOPY_DISCOVERY: 'off', CANOPY_MESH: 'off' };
const LOAD = ['apps/node/test/relay.e2e.test.ts', 'apps/node/test/relay-resilience.e2e.test.ts'];
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          sequence: { groupOrder: 0 },
          include: ['apps/*/src/**/*.test.ts', 'packages/*/src/**/*.test.ts', 'tools/*/src/**/*.test.ts'],
          environment: 'node',
          env,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['apps/*/test/**/*.test.ts', 'tools/*/test/**/*.test.ts'],
          exclude: ['apps/*/test/**/*.browser.test.ts', ...LOAD],
          sequence: { groupOrder: 0 },
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
          sequence: { groupOrder: 0 },
          environment: 'node',
          env,
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'load',
          include: LOAD,
          sequence: { groupOrder: 1 },
          environment: 'node',
          env,
          testTimeout: 30_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
