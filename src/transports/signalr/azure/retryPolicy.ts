import type { RestOutcome, RetryReason } from './restClient.ts';

/** How often and how patiently a REST call is repeated. */
export interface RetryPolicy {
  /** Attempts in all, the first included. */
  readonly maxAttempts: number;
  /** Ceiling of the first backoff; it doubles per attempt (full jitter: a random delay up to the ceiling). */
  readonly baseDelayMs: number;
  /** Largest backoff, also the cap on a service's `Retry-After`. */
  readonly maxDelayMs: number;
}

/** For the publisher: 6 attempts, 200 ms doubling to at most 10 s (about 6 s of backoff in all, on average 3 s). */
export const SEND_RETRY: RetryPolicy = { maxAttempts: 6, baseDelayMs: 200, maxDelayMs: 10_000 };

/** For negotiate, where a client waits: 3 attempts, 100 ms doubling to at most 1 s. */
export const NEGOTIATE_RETRY: RetryPolicy = { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 1_000 };

/** The final outcome and how many attempts it took. */
export type RetriedOutcome = RestOutcome & { readonly attempts: number };

/**
 * Runs `attempt` until it succeeds, is rejected, `maxAttempts` are spent, or `signal` aborts
 * (the last outcome is returned then). Between attempts it waits an exponential backoff with
 * full jitter, or the service's `Retry-After` when that is longer (both capped at
 * `maxDelayMs`). `onRetry` is told each time another attempt is about to be made.
 */
export async function withRetries(
  attempt: () => Promise<RestOutcome>,
  policy: RetryPolicy,
  signal: AbortSignal,
  onRetry: (reason: RetryReason) => void = () => undefined,
): Promise<RetriedOutcome> {
  for (let attempts = 1; ; attempts++) {
    const outcome = await attempt();
    if (outcome.kind !== 'retryable' || attempts >= policy.maxAttempts || signal.aborted) return { ...outcome, attempts };
    onRetry(outcome.reason);
    const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempts - 1));
    const delay = Math.min(policy.maxDelayMs, Math.max(Math.random() * ceiling, outcome.retryAfterMs ?? 0));
    await sleep(delay, signal);
    if (signal.aborted) return { ...outcome, attempts };
  }
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
