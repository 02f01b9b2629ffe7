import type { GetToken } from '../api.ts';
import type { ConnectionState } from '../connectionState.ts';
import { StatuscastError, type StatuscastErrorKind } from '../errors.ts';
import { canShareAcrossTabs } from './tabLeadership.ts';

/**
 * The key tabs share one connection under, or `null` for a connection of this tab's own:
 * the service, the user, and what is followed. The user is `share` when it is a string,
 * else the `sub` claim of the user token (read, not verified: it only keeps two users'
 * tabs apart); a token that is not a JWT is not shared.
 */
export async function shareKey(share: boolean | string | undefined, getToken: GetToken, parts: readonly string[]): Promise<string | null> {
  if (share === false || !canShareAcrossTabs()) return null;
  let user: string | null = typeof share === 'string' ? share : null;
  if (user === null) {
    try {
      user = subjectOf((await getToken()) ?? '');
    } catch {
      user = null;
    }
  }
  return user === null ? null : JSON.stringify([user, ...parts]);
}

function subjectOf(token: string): string | null {
  const payload = token.split('.')[1];
  if (!payload) return null;
  try {
    const claims: unknown = JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/')));
    const sub = (claims as { sub?: unknown } | null)?.sub;
    return typeof sub === 'string' ? sub : null;
  } catch {
    return null;
  }
}

/** A connection state as it travels between tabs (structured clone keeps no error subclass). */
export type SharedConnectionState = Omit<ConnectionState, 'error'> & {
  readonly error: { readonly kind: StatuscastErrorKind; readonly message: string; readonly status: number } | null;
};

export function shareConnection(state: ConnectionState): SharedConnectionState {
  return { ...state, error: state.error ? { kind: state.error.kind, message: state.error.message, status: state.error.status } : null };
}

export function sharedConnection(state: SharedConnectionState): ConnectionState {
  return { ...state, role: 'follower', error: state.error ? new StatuscastError(state.error.kind, state.error.message, state.error.status) : null };
}
