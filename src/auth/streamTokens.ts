import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SignJWT, jwtVerify } from 'jose';
import type { StreamTokenIssuer } from './authenticator.ts';
import type { Principal } from './principal.ts';

export const STREAM_TOKEN_ISSUER = 'statuscast';
export const STREAM_TOKEN_AUDIENCE = 'statuscast-stream';
export const STREAM_TOKEN_ALGORITHM = 'HS256';

export interface StreamTokens extends StreamTokenIssuer {
  /** Verifies a stream token; rejects (jose error) when invalid or expired. */
  verify(token: string): Promise<Principal>;
}

/**
 * Short-lived tokens for the hub and SSE URLs, signed with a secret every node of a
 * deployment shares (`STREAM_TOKEN_SECRET`), scoped to one user and the groups negotiate
 * granted.
 */
export function createStreamTokens(secret: Uint8Array, ttlSeconds: number): StreamTokens {
  return {
    async issue(principal, groups) {
      const expiresAt = new Date((Math.floor(Date.now() / 1000) + ttlSeconds) * 1000);
      // No roles: what a stream token opens is its groups and nothing else.
      const token = await new SignJWT({ groups: [...groups], typ: 'stream' })
        .setProtectedHeader({ alg: STREAM_TOKEN_ALGORITHM, typ: 'JWT' })
        .setSubject(principal.userId)
        .setIssuer(STREAM_TOKEN_ISSUER)
        .setAudience(STREAM_TOKEN_AUDIENCE)
        .setIssuedAt()
        .setExpirationTime(Math.floor(expiresAt.getTime() / 1000))
        .sign(secret);
      return { token, expiresAt };
    },
    async verify(token) {
      const { payload } = await jwtVerify(token, secret, {
        issuer: STREAM_TOKEN_ISSUER,
        audience: STREAM_TOKEN_AUDIENCE,
        algorithms: [STREAM_TOKEN_ALGORITHM],
        requiredClaims: ['sub', 'exp'],
      });
      if (payload['typ'] !== 'stream') throw new Error('not a stream token');
      const groups = Array.isArray(payload['groups']) ? payload['groups'].filter((g) => typeof g === 'string') : [];
      return {
        userId: payload.sub!,
        // Never taken from the token (older tokens carried some): the groups are the whole grant.
        roles: new Set<string>(),
        tokenKind: 'stream',
        groups,
        expiresAt: new Date(payload.exp! * 1000),
      };
    },
  };
}

/**
 * The configured secret, or one generated once and kept in `DATA_DIR` (fine for a single
 * node; several nodes must share `STREAM_TOKEN_SECRET`).
 */
export function loadStreamTokenSecret(configured: string | undefined, dataDir: string): Uint8Array {
  if (configured) return new TextEncoder().encode(configured);
  const file = join(dataDir, 'stream-token.key');
  if (existsSync(file)) return Buffer.from(readFileSync(file, 'utf8').trim(), 'base64url');
  const secret = randomBytes(32);
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(file, secret.toString('base64url'), { mode: 0o600 });
  chmodSync(file, 0o600);
  return secret;
}
