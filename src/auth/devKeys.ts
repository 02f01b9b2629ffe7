import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type CryptoKey, type JWK, calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK } from 'jose';

/** Issuer and audience of dev-mode user tokens. */
export const DEV_ISSUER = 'statuscast-dev';
export const DEV_AUDIENCE = 'statuscast';
const ALGORITHM = 'ES256';
const FILE = 'dev-auth-key.json';

export interface DevKeys {
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
  /** The public key as served from `/.well-known/jwks.json`. */
  readonly publicJwk: JWK;
  readonly algorithm: typeof ALGORITHM;
}

/**
 * The dev-mode issuer's key pair, kept in `DATA_DIR` so that tokens minted by
 * `npm run token` stay valid across restarts. Created on first use, readable only by the
 * owner of the process.
 */
export async function loadOrCreateDevKeys(dataDir: string): Promise<DevKeys> {
  const file = join(dataDir, FILE);
  let privateJwk: JWK;
  if (existsSync(file)) {
    privateJwk = JSON.parse(readFileSync(file, 'utf8')) as JWK;
  } else {
    const pair = await generateKeyPair(ALGORITHM, { extractable: true });
    privateJwk = await exportJWK(pair.privateKey);
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(file, JSON.stringify(privateJwk), { mode: 0o600 });
    chmodSync(file, 0o600);
  }
  const { d: _secret, ...publicPart } = privateJwk;
  const kid = await calculateJwkThumbprint(publicPart);
  const publicJwk: JWK = { ...publicPart, kid, alg: ALGORITHM, use: 'sig' };
  return {
    kid,
    algorithm: ALGORITHM,
    privateKey: (await importJWK(privateJwk, ALGORITHM)) as CryptoKey,
    publicKey: (await importJWK(publicJwk, ALGORITHM)) as CryptoKey,
    publicJwk,
  };
}
