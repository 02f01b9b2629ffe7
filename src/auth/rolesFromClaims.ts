import type { JWTPayload } from 'jose';

/**
 * Reads roles from the claim named by `AUTH_ROLES_CLAIM`. Auth0 puts them in a namespaced
 * claim (`https://example.com/roles`) as an array; other issuers use a space- or
 * comma-separated string. Anything else reads as no roles.
 */
export function rolesFromClaims(payload: JWTPayload, claim: string): Set<string> {
  const value = payload[claim];
  if (Array.isArray(value)) return new Set(value.filter((v): v is string => typeof v === 'string'));
  if (typeof value === 'string') return new Set(value.split(/[\s,]+/).filter(Boolean));
  return new Set();
}
