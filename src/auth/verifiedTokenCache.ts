import type { Principal } from './principal.ts';

export interface VerifiedTokenCacheOptions {
  /** Tokens remembered at most (least recently used evicted). */
  readonly capacity: number;
  /** Longest a verification is trusted again, so a key withdrawn from the JWKS stops working soon. */
  readonly ttlMs: number;
  /** Seconds of clock skew tolerated on `exp`, as the verification tolerates them. */
  readonly clockToleranceSeconds: number;
  readonly now?: () => number;
}

/**
 * Remembers user tokens whose signature was verified, by their exact text. A publisher sends
 * the same token on every request, and an ECDSA/RSA verification costs more main-thread time
 * than the rest of a single-message ingest; a request bearing a remembered token is still
 * authenticated — its token must equal, byte for byte, one that passed every check, and its
 * `exp` is checked again on every use.
 */
export class VerifiedTokenCache {
  readonly #entries = new Map<string, { principal: Principal; until: number }>();
  readonly #options: VerifiedTokenCacheOptions;
  readonly #now: () => number;

  constructor(options: VerifiedTokenCacheOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  get(token: string): Principal | undefined {
    const entry = this.#entries.get(token);
    if (!entry) return undefined;
    if (this.#now() >= entry.until) {
      this.#entries.delete(token);
      return undefined;
    }
    // Refreshed as most recently used.
    this.#entries.delete(token);
    this.#entries.set(token, entry);
    return entry.principal;
  }

  set(token: string, principal: Principal): void {
    const now = this.#now();
    const expires = principal.expiresAt ? principal.expiresAt.getTime() + this.#options.clockToleranceSeconds * 1000 : now;
    const until = Math.min(expires, now + this.#options.ttlMs);
    if (until <= now) return;
    this.#entries.delete(token);
    this.#entries.set(token, { principal, until });
    if (this.#entries.size > this.#options.capacity) this.#entries.delete(this.#entries.keys().next().value!);
  }
}
