import { loadOrCreateDevKeys } from '../auth/devKeys.ts';
import { mintDevToken } from '../auth/mintDevToken.ts';
import { ConfigError, loadConfig } from '../config.ts';
import { cliArgs } from './args.ts';

/**
 * `npm run token -- --sub alice [--roles admin,publisher] [--ttl 3600]`: prints a dev-mode
 * user token signed with the key in DATA_DIR (the same key the running service trusts).
 */
const USAGE = 'npm run token -- --sub <user id> [--roles admin,auditor,publisher] [--ttl <seconds>]';
const args = cliArgs(
  { sub: { type: 'string' }, roles: { type: 'string', multiple: true }, ttl: { type: 'string' } },
  USAGE,
);

try {
  const config = loadConfig();
  if (config.auth.mode !== 'dev') {
    console.error('statuscast: AUTH_JWKS_URL is set; tokens come from your identity provider, not from this command.');
    process.exit(2);
  }
  if (!args.sub) {
    console.error(`--sub is required\nusage: ${USAGE}`);
    process.exit(2);
  }
  const roles = (args.roles ?? []).flatMap((r) => r.split(',')).map((r) => r.trim()).filter(Boolean);
  const ttlSeconds = args.ttl === undefined ? undefined : Number(args.ttl);
  if (ttlSeconds !== undefined && (!Number.isInteger(ttlSeconds) || ttlSeconds <= 0)) {
    console.error(`--ttl must be a positive number of seconds\nusage: ${USAGE}`);
    process.exit(2);
  }
  const keys = await loadOrCreateDevKeys(config.dataDir);
  process.stdout.write(`${await mintDevToken(keys, { sub: args.sub, roles, ttlSeconds, rolesClaim: config.auth.rolesClaim })}\n`);
} catch (error) {
  console.error(`statuscast: ${error instanceof ConfigError || error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
