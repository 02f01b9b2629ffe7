/**
 * `node --import tsx deploy/createDevKey.ts <dir>`: creates, once, the secrets every node of
 * a docker-compose deployment must share in `<dir>` (an existing one is kept):
 * - `dev-auth-key.json`, the dev-mode signing key, so every node accepts the same dev tokens;
 * - `stream-token.key`, a random stream-token secret, generated here so that no deployment
 *   ever runs on a secret written in a file anyone can read.
 * Each node copies both into its DATA_DIR before starting.
 */
import { loadOrCreateDevKeys } from '../src/auth/devKeys.ts';
import { loadStreamTokenSecret } from '../src/auth/streamTokens.ts';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node --import tsx deploy/createDevKey.ts <dir>');
  process.exit(2);
}
const keys = await loadOrCreateDevKeys(dir);
loadStreamTokenSecret(undefined, dir);
console.log(`dev-mode signing key ${keys.kid} and a generated stream-token secret are in ${dir}`);
