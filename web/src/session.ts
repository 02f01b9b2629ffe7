/**
 * The signed-in user's token. It lives in `sessionStorage` (this tab only, gone when the tab
 * closes) and never in a URL, a cookie or `localStorage`.
 */
const KEY = 'statuscast.token';

export interface SignedInUser {
  readonly token: string;
  readonly sub: string;
  readonly roles: readonly string[];
}

export function currentUser(): SignedInUser | null {
  const token = sessionStorage.getItem(KEY);
  if (!token) return null;
  const claims = readClaims(token);
  if (!claims || (typeof claims.exp === 'number' && claims.exp * 1000 <= Date.now())) {
    sessionStorage.removeItem(KEY);
    return null;
  }
  return { token, sub: typeof claims.sub === 'string' ? claims.sub : '(unknown user)', roles: rolesOf(claims) };
}

export function signIn(token: string): SignedInUser | null {
  sessionStorage.setItem(KEY, token.trim());
  return currentUser();
}

export function signOut(): void {
  sessionStorage.removeItem(KEY);
}

/** Reads (does not verify) a JWT's claims, for display only; the service verifies. */
function readClaims(token: string): Record<string, unknown> | null {
  const payload = token.split('.')[1];
  if (!payload) return null;
  try {
    const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/'));
    const claims: unknown = JSON.parse(json);
    return typeof claims === 'object' && claims !== null ? (claims as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** Any claim named `roles` or ending in `/roles` (Auth0 namespaced claims). */
function rolesOf(claims: Record<string, unknown>): string[] {
  for (const [name, value] of Object.entries(claims)) {
    if ((name === 'roles' || name.endsWith('/roles')) && Array.isArray(value)) {
      return value.filter((r): r is string => typeof r === 'string');
    }
  }
  return [];
}
