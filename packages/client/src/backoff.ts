/**
 * The reconnect back-off statuscast clients use (the delays the built-in page has always
 * used): the n-th attempt after a loss waits `RECONNECT_DELAYS_MS[n - 1]`, and every
 * attempt after the listed ones waits the last delay, for as long as the caller follows.
 */
export const RECONNECT_DELAYS_MS: readonly number[] = [0, 2_000, 5_000, 10_000, 30_000];

/** The delay before reconnect attempt `attempt` (1-based), with up to 20 % jitter on non-zero delays. */
export function reconnectDelay(attempt: number, random: () => number = Math.random): number {
  const base = RECONNECT_DELAYS_MS[Math.min(attempt, RECONNECT_DELAYS_MS.length) - 1] ?? 0;
  // Jitter spreads the clients a server restart dropped, so they do not all return at once.
  return base === 0 ? 0 : Math.round(base * (0.8 + 0.2 * random()));
}
