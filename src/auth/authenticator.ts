import type { Principal } from './principal.ts';

/**
 * Verifies bearer tokens. Both methods reject with `UnauthorizedError` for a missing,
 * malformed, badly signed, wrongly issued or expired token; the error never holds the token.
 */
export interface Authenticator {
  /** A token from the `Authorization: Bearer` header: a user token or a stream token. */
  verifyBearer(token: string): Promise<Principal>;
  /**
   * A token from a URL (`?access_token=`): only short-lived stream tokens are accepted, so
   * that a long-lived user token is never required in — or useful from — a URL.
   */
  verifyQueryToken(token: string): Promise<Principal>;
}

/** Mints the short-lived stream tokens that negotiate hands out (contract §2). */
export interface StreamTokenIssuer {
  issue(principal: Principal, groups: readonly string[]): Promise<{ token: string; expiresAt: Date }>;
}
