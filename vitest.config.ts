import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/** The workspace packages, from their sources (as `paths` in tsconfig.json maps them for tsc and tsx). */
const workspaceSources = {
  '@statuscast/signalr-server': fileURLToPath(new URL('./packages/signalr-server/src/index.ts', import.meta.url)),
};

export default defineConfig({
  resolve: { alias: workspaceSources },
  test: {
    include: ['test/**/*.test.ts', 'packages/*/test/**/*.test.ts'],
    // Integration tests start real servers and real clients; two cores are shared
    // between workers, so keep timeouts generous and parallelism modest.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
