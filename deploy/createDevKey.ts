/**
 * `node --import tsx deploy/createDevKey.ts <dir>`: creates the dev-mode signing key in `<dir>`
 * once (keeps an existing one). docker-compose.yml runs it in a one-shot service so that every
 * statuscast node copies the same key into its DATA_DIR and accepts the same dev-mode tokens.
 */
import { loadOrCreateDevKeys } from '../src/auth/devKeys.ts';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node --import tsx deploy/createDevKey.ts <dir>');
  process.exit(2);
}
const keys = await loadOrCreateDevKeys(dir);
console.log(`dev-mode signing key ${keys.kid} is in ${dir}`);
