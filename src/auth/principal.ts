/** Roles that change what a caller may do (contract §2). */
export type Role = 'admin' | 'auditor' | 'publisher';

/** Who is calling, after the token was verified. */
export interface Principal {
  /** The token's `sub`; also the owner id of the jobs this user creates. */
  readonly userId: string;
  readonly roles: ReadonlySet<string>;
  /**
   * `user`: a token from the identity provider (or a dev token).
   * `stream`: a short-lived token minted by negotiate for the hub and SSE URLs.
   */
  readonly tokenKind: 'user' | 'stream';
  /**
   * For stream tokens: the SignalR group names the token was minted for. They bound what
   * the connection may subscribe to. `null` for user tokens (no bound beyond visibility).
   */
  readonly groups: readonly string[] | null;
  /** When the token stops being valid; connections are closed at that moment. */
  readonly expiresAt: Date | null;
}

export function hasRole(principal: Principal, role: Role): boolean {
  return principal.roles.has(role);
}

/** Admins and auditors see every job; everyone else only their own. */
export function canSeeJob(principal: Principal, owner: string): boolean {
  return principal.userId === owner || hasRole(principal, 'admin') || hasRole(principal, 'auditor');
}

/** Sees every job's events in the multi-job feed (`/events`, `SubscribeFeed`). */
export function seesAllJobs(principal: Principal): boolean {
  return hasRole(principal, 'admin') || hasRole(principal, 'auditor');
}
