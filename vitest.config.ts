import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const source = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/** The workspace packages, from their sources (as `paths` in tsconfig.json maps them for tsc and tsx). */
const workspaceSources = [
  { find: /^@statuscast\/signalr-server$/, replacement: source('./packages/signalr-server/src/index.ts') },
  { find: /^@statuscast\/client$/, replacement: source('./packages/client/src/index.ts') },
  { find: /^@statuscast\/client\/react$/, replacement: source('./packages/client/src/react/index.ts') },
];

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
