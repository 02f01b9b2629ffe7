import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type CryptoKey, type JWK, calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, importPKCS8 } from 'jose';

/** Where the dev audit key lives in `DATA_DIR`. */
export const AUDIT_KEY_FILE = 'audit-signing-key.json';

export type AuditAlgorithm = 'EdDSA' | 'ES256';

/** The key that signs checkpoints, and the public half that verifies them. */
export interface AuditSigner {
  readonly kid: string;
  readonly algorithm: AuditAlgorithm;
  readonly privateKey: CryptoKey;
  /** Served in `/.well-known/statuscast-audit-keys.json`. */
  readonly publicJwk: JWK;
}

/** A JSON Web Key Set of public keys. */
export interface Jwks {
  readonly keys: readonly JWK[];
}

/**
 * The audit signing key: `AUDIT_SIGNING_KEY` when configured (production: every node of a
 * deployment must share it), otherwise an Ed25519 key created in `DATA_DIR` on first use and
 * kept there, readable only by the process owner.
 */
export async function loadAuditSigner(options: { configured: string | undefined; dataDir: string }): Promise<AuditSigner> {
  if (options.configured) return signerFromConfigured(options.configured);
  const file = join(options.dataDir, AUDIT_KEY_FILE);
  let privateJwk: JWK;
  if (existsSync(file)) {
    privateJwk = JSON.parse(readFileSync(file, 'utf8')) as JWK;
  } else {
    const pair = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
    privateJwk = await exportJWK(pair.privateKey);
    mkdirSync(options.dataDir, { recursive: true });
    writeFileSync(file, JSON.stringify(privateJwk), { mode: 0o600 });
    chmodSync(file, 0o600);
  }
  return signerFromJwk(privateJwk);
}

/**
 * The public keys of the audit key in `DATA_DIR`, without creating one: what
 * `npm run verify` trusts when no `--jwks` is given (an auditor on the service's machine).
 */
export async function localAuditJwks(dataDir: string): Promise<Jwks | undefined> {
  const file = join(dataDir, AUDIT_KEY_FILE);
  if (!existsSync(file)) return undefined;
  const signer = await signerFromJwk(JSON.parse(readFileSync(file, 'utf8')) as JWK);
  return { keys: [signer.publicJwk] };
}

/** Accepts a private JWK (JSON) or a PKCS#8 PEM, Ed25519 or P-256. */
async function signerFromConfigured(text: string): Promise<AuditSigner> {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) return signerFromJwk(JSON.parse(trimmed) as JWK);
  for (const algorithm of ['EdDSA', 'ES256'] as const) {
    try {
      const key = await importPKCS8(trimmed, algorithm, { extractable: true });
      return signerFromJwk(await exportJWK(key));
    } catch {
      // Try the other algorithm; the error below names both.
    }
  }
  throw new Error('AUDIT_SIGNING_KEY must be an Ed25519 or P-256 private key (PKCS#8 PEM or JWK)');
}

async function signerFromJwk(privateJwk: JWK): Promise<AuditSigner> {
  const algorithm = algorithmOf(privateJwk);
  if (!privateJwk.d) throw new Error('AUDIT_SIGNING_KEY must be a private key');
  const { d: _secret, kid: _kid, alg: _alg, use: _use, key_ops: _ops, ext: _ext, ...publicPart } = privateJwk;
  const kid = await calculateJwkThumbprint(publicPart);
  return {
    kid,
    algorithm,
    privateKey: (await importJWK(privateJwk, algorithm)) as CryptoKey,
    publicJwk: { ...publicPart, kid, alg: algorithm, use: 'sig' },
  };
}

function algorithmOf(jwk: JWK): AuditAlgorithm {
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') return 'EdDSA';
  if (jwk.kty === 'EC' && jwk.crv === 'P-256') return 'ES256';
  throw new Error('AUDIT_SIGNING_KEY must be an Ed25519 (OKP) or P-256 (EC) key');
}
