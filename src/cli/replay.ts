import { loadOrCreateDevKeys } from '../auth/devKeys.ts';
import { mintDevToken } from '../auth/mintDevToken.ts';
import { loadConfig } from '../config.ts';
import { cliArgs } from './args.ts';

/**
 * `npm run replay -- --job job-42 [--after r] [--url http://127.0.0.1:3000] [--token …]`:
 * prints a job's raw event stream as NDJSON, for auditors (contract §7), ending with the signed
 * checkpoint line that `npm run verify` checks (docs/audit.md). Without `--token`
 * (and without `STATUSCAST_TOKEN`) in dev mode it mints a short-lived auditor token.
 */
const USAGE = 'npm run replay -- --job <job id> [--after <revision>] [--url <base url>] [--token <bearer token>]';
const args = cliArgs(
  { job: { type: 'string' }, after: { type: 'string' }, url: { type: 'string' }, token: { type: 'string' } },
  USAGE,
);

if (!args.job) {
  console.error(`--job is required\nusage: ${USAGE}`);
  process.exit(2);
}
if (args.after !== undefined && !/^[0-9]+$/.test(args.after)) {
  console.error(`--after must be a revision number\nusage: ${USAGE}`);
  process.exit(2);
}

const config = loadConfig();
const base = (args.url ?? `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${config.port}`).replace(/\/+$/, '');
let token = args.token ?? process.env['STATUSCAST_TOKEN'];
if (!token) {
  if (config.auth.mode !== 'dev') {
    console.error('statuscast: give --token (or STATUSCAST_TOKEN): this service verifies tokens from your identity provider');
    process.exit(2);
  }
  const keys = await loadOrCreateDevKeys(config.dataDir);
  token = await mintDevToken(keys, { sub: 'replay-cli', roles: ['auditor'], ttlSeconds: 300, rolesClaim: config.auth.rolesClaim });
}

const query = args.after === undefined ? '' : `?after=${args.after}`;
const response = await fetch(`${base}/jobs/${encodeURIComponent(args.job)}/history${query}`, {
  headers: { authorization: `Bearer ${token}`, accept: 'application/x-ndjson' },
}).catch((error: unknown) => {
  console.error(`statuscast: cannot reach ${base}: ${error instanceof Error ? error.message : error}`);
  process.exit(1);
});
if (!response.ok || !response.body) {
  console.error(`statuscast: ${response.status} ${await response.text()}`);
  process.exit(1);
}
for await (const chunk of response.body) process.stdout.write(chunk as Uint8Array);
