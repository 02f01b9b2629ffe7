/**
 * `node --import tsx deploy/createDevKey.ts <dir>`: creates the dev-mode signing key and the
 * audit signing key in `<dir>` once (keeps existing ones). docker-compose.yml runs it in a
 * one-shot service so that every statuscast node copies the same keys into its DATA_DIR: it
 * accepts the same dev-mode tokens, and its audit checkpoints verify with the same JWKS.
 */
import { loadAuditSigner } from '../src/audit/auditKeys.ts';
import { loadOrCreateDevKeys } from '../src/auth/devKeys.ts';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node --import tsx deploy/createDevKey.ts <dir>');
  process.exit(2);
}
const keys = await loadOrCreateDevKeys(dir);
console.log(`dev-mode signing key ${keys.kid} is in ${dir}`);
const audit = await loadAuditSigner({ configured: undefined, dataDir: dir });
console.log(`audit signing key ${audit.kid} is in ${dir}`);
