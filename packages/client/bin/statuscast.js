#!/usr/bin/env node
// `statuscast follow <job_id>`: the command-line follower (see README.md). Runs the built
// package; in the statuscast repository, build it first: npm run build -w @statuscast/client.
let cli;
try {
  cli = await import('../dist/cli/statuscast.js');
} catch (error) {
  if (error?.code !== 'ERR_MODULE_NOT_FOUND') throw error;
  console.error('statuscast: the package is not built (dist/ is missing). Run: npm run build -w @statuscast/client');
  process.exit(1);
}
process.exitCode = await cli.main(process.argv.slice(2));
