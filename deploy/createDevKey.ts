/**
 * `node --import tsx deploy/createDevKey.ts <dir>`: creates, once, the secrets every node of
 * a docker-compose deployment must share in `<dir>` (an existing one is kept):
 * - `dev-auth-key.json`, the dev-mode signing key, so every node accepts the same dev tokens;
 * - `stream-token.key`, a random stream-token secret, generated here so that no deployment
 *   ever runs on a secret written in a file anyone can read;
 * - the audit signing key, so that every node's audit checkpoints verify with one JWKS.
 * Each node copies them into its DATA_DIR before starting.
 */
import { loadAuditSigner } from '../src/audit/auditKeys.ts';
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
const audit = await loadAuditSigner({ configured: undefined, dataDir: dir });
console.log(`audit signing key ${audit.kid} is in ${dir}`);
