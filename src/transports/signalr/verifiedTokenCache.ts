import type { Principal } from '../../auth/principal.ts';
import type { HubIdentity } from '@statuscast/signalr-server';

/** How long a verified token is taken at its word without verifying it again. */
export const VERIFIED_TOKEN_TTL_MS = 60_000;
/** Entries per cache; beyond it the oldest go first (a storm of distinct tokens stays bounded). */
export const MAX_VERIFIED_TOKENS = 20_000;

interface Entry {
  readonly identity: HubIdentity<Principal>;
  /** Reused until then: at most the TTL after verification, never at or beyond the token's `exp`. */
  readonly until: number;
}

/**
 * Tokens whose signature and claims were verified recently, so that a reconnect storm (every
 * client negotiating with a token and connecting with the same one) verifies each token once,
 * not once per request. Only successes are kept. User tokens and stream tokens live apart:
 * a lookup for a URL token (`query`) sees stream tokens only, so a user token verified from
 * a header can never be accepted from a URL because it is cached.
 */
export class VerifiedTokenCache {
  private readonly stream = new Map<string, Entry>();
  private readonly user = new Map<string, Entry>();

  constructor(
    private readonly ttlMs = VERIFIED_TOKEN_TTL_MS,
    private readonly maxEntries = MAX_VERIFIED_TOKENS,
  ) {}

  get(token: string, source: 'header' | 'query', now: number): HubIdentity<Principal> | undefined {
    const entry = this.stream.get(token) ?? (source === 'header' ? this.user.get(token) : undefined);
    if (entry === undefined) return undefined;
    if (now < entry.until) return entry.identity;
    this.stream.delete(token);
    this.user.delete(token);
    return undefined;
  }

  put(token: string, identity: HubIdentity<Principal>, now: number): void {
    const expiresAt = identity.expiresAt?.getTime() ?? Number.POSITIVE_INFINITY;
    const until = Math.min(now + this.ttlMs, expiresAt);
    if (until <= now) return;
    const cache = identity.user.tokenKind === 'stream' ? this.stream : this.user;
    if (cache.size >= this.maxEntries) this.evict(cache, now);
    cache.set(token, { identity, until });
  }

  get size(): number {
    return this.stream.size + this.user.size;
  }

  /** Drops what expired; if none did, the oldest entry (insertion order). */
  private evict(cache: Map<string, Entry>, now: number): void {
    for (const [token, entry] of cache) if (entry.until <= now) cache.delete(token);
    if (cache.size < this.maxEntries) return;
    const oldest = cache.keys().next();
    if (!oldest.done) cache.delete(oldest.value);
  }
}
