/** Per-user bounds of one node, shared by every transport. */
export interface UserQuotaLimits {
  /** Open connections (SSE streams and SignalR connections together). Defaults to 100. */
  readonly maxConnectionsPerUser: number;
  /** Live subscriptions (an SSE stream is one; each hub `Subscribe`/`SubscribeFeed` is one). Defaults to 1,000. */
  readonly maxSubscriptionsPerUser: number;
}

export const DEFAULT_USER_QUOTA: UserQuotaLimits = { maxConnectionsPerUser: 100, maxSubscriptionsPerUser: 1_000 };

/** Something held against a user's quota; `release` is idempotent. */
export interface QuotaLease {
  release(): void;
}

/**
 * Counts what each user holds on this node, so that one user (or one leaked token) cannot
 * exhaust it: a connection or subscription past the bound is refused with a reason the
 * client can show, and everyone else is unaffected. Counts live in memory per node; a user
 * spread over N nodes may hold N times the bound.
 */
export class UserQuota {
  readonly #connections = new Map<string, number>();
  readonly #subscriptions = new Map<string, number>();

  constructor(readonly limits: UserQuotaLimits = DEFAULT_USER_QUOTA) {}

  /** A lease on one connection, or `null` when `userId` already holds the maximum. */
  openConnection(userId: string): QuotaLease | null {
    return this.#take(this.#connections, userId, this.limits.maxConnectionsPerUser);
  }

  /** A lease on one subscription, or `null` when `userId` already holds the maximum. */
  addSubscription(userId: string): QuotaLease | null {
    return this.#take(this.#subscriptions, userId, this.limits.maxSubscriptionsPerUser);
  }

  /** What `userId` holds now (for tests and metrics). */
  held(userId: string): { connections: number; subscriptions: number } {
    return { connections: this.#connections.get(userId) ?? 0, subscriptions: this.#subscriptions.get(userId) ?? 0 };
  }

  #take(counts: Map<string, number>, userId: string, max: number): QuotaLease | null {
    const held = counts.get(userId) ?? 0;
    if (held >= max) return null;
    counts.set(userId, held + 1);
    let released = false;
    return {
      release() {
        if (released) return;
        released = true;
        const now = (counts.get(userId) ?? 1) - 1;
        if (now <= 0) counts.delete(userId);
        else counts.set(userId, now);
      },
    };
  }
}
