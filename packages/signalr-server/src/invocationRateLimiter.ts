/**
 * A token bucket: up to `perSecond` invocations in any burst, refilled continuously at
 * `perSecond` per second. Cheaper and smoother than a fixed window, which allows twice the
 * rate across a window boundary.
 */
export class InvocationRateLimiter {
  private tokens: number;
  private refilledAt: number;

  constructor(
    private readonly perSecond: number,
    now: number,
  ) {
    this.tokens = perSecond;
    this.refilledAt = now;
  }

  /** Takes one token; false when the connection is over its rate. */
  tryTake(now: number): boolean {
    const elapsed = now - this.refilledAt;
    if (elapsed > 0) {
      this.tokens = Math.min(this.perSecond, this.tokens + (elapsed * this.perSecond) / 1000);
      this.refilledAt = now;
    }
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
