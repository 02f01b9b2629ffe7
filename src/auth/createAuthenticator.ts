import { type JWTPayload, type JWTVerifyGetKey, createLocalJWKSet, createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { UnauthorizedError } from '../errors.ts';
import type { Authenticator } from './authenticator.ts';
import { DEV_AUDIENCE, DEV_ISSUER, type DevKeys } from './devKeys.ts';
import type { Principal } from './principal.ts';
import { rolesFromClaims } from './rolesFromClaims.ts';
import { STREAM_TOKEN_ALGORITHM, type StreamTokens } from './streamTokens.ts';
import { VerifiedTokenCache } from './verifiedTokenCache.ts';

export type UserTokenVerification =
  | { readonly mode: 'jwks'; readonly jwksUrl: string; readonly issuer: string; readonly audience: string }
  | { readonly mode: 'dev'; readonly keys: DevKeys };

export interface AuthenticatorOptions {
  readonly users: UserTokenVerification;
  readonly rolesClaim: string;
  readonly streamTokens: StreamTokens;
  /** Seconds of clock skew tolerated on `exp`/`nbf`. Defaults to 5. */
  readonly clockToleranceSeconds?: number;
}

const ASYMMETRIC = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

/**
 * Verifies user tokens against the identity provider's JWKS (cached by jose and
 * refreshed when an unknown `kid` appears) or, in dev mode, the service's own key; and
 * the service's own stream tokens. A token's header decides which check applies, and
 * each check pins its algorithms, so one kind can never pass for the other.
 */
export function createAuthenticator(options: AuthenticatorOptions): Authenticator {
  const tolerance = options.clockToleranceSeconds ?? 5;
  const userKeys: JWTVerifyGetKey =
    options.users.mode === 'jwks'
      ? createRemoteJWKSet(new URL(options.users.jwksUrl))
      : createLocalJWKSet({ keys: [options.users.keys.publicJwk] });
  const issuer = options.users.mode === 'jwks' ? options.users.issuer : DEV_ISSUER;
  const audience = options.users.mode === 'jwks' ? options.users.audience : DEV_AUDIENCE;

  // User and stream tokens are remembered apart: a user token verified from a header can never
  // be found by a URL lookup, which consults stream tokens only. A reconnect storm presents each
  // stream token twice (negotiate, then connect) and every publisher request the same user token.
  const verifiedUsers = new VerifiedTokenCache({ capacity: 1024, ttlMs: 60_000, clockToleranceSeconds: tolerance });
  const verifiedStreams = new VerifiedTokenCache({ capacity: 20_000, ttlMs: 60_000, clockToleranceSeconds: 0 });

  function remembered(cache: VerifiedTokenCache, verify: (token: string) => Promise<Principal>) {
    return async (token: string): Promise<Principal> => {
      const known = cache.get(token);
      if (known) return known;
      const principal = await verify(token);
      cache.set(token, principal);
      return principal;
    };
  }
  const verifyUser = remembered(verifiedUsers, verifySignedUser);
  const verifyStream = remembered(verifiedStreams, (token) => options.streamTokens.verify(token));

  async function verifySignedUser(token: string): Promise<Principal> {
    const { payload } = await jwtVerify(token, userKeys, {
      issuer,
      audience,
      algorithms: ASYMMETRIC,
      clockTolerance: tolerance,
      // A token without `exp` would hold a connection open for ever and outlive any revocation.
      requiredClaims: ['sub', 'exp'],
    });
    return toPrincipal(payload);
  }

  function toPrincipal(payload: JWTPayload): Principal {
    return {
      userId: payload.sub!,
      roles: rolesFromClaims(payload, options.rolesClaim),
      tokenKind: 'user',
      groups: null,
      expiresAt: payload.exp === undefined ? null : new Date(payload.exp * 1000),
    };
  }

  function isStreamToken(token: string): boolean {
    try {
      return decodeProtectedHeader(token).alg === STREAM_TOKEN_ALGORITHM;
    } catch {
      return false;
    }
  }

  async function guard(check: () => Promise<Principal>): Promise<Principal> {
    try {
      return await check();
    } catch (error) {
      // jose's messages name the failed claim, never the token itself.
      const reason = error instanceof Error ? error.message : 'invalid token';
      throw new UnauthorizedError(`The access token is not valid: ${reason}`);
    }
  }

  return {
    verifyBearer(token) {
      return guard(() => (isStreamToken(token) ? verifyStream(token) : verifyUser(token)));
    },
    verifyQueryToken(token) {
      return guard(async () => {
        if (!isStreamToken(token)) throw new Error('only stream tokens from negotiate are accepted in a URL');
        return verifyStream(token);
      });
    },
  };
}
