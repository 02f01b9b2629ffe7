/**
 * A byte bound that lets one oversized frame through. A catch-up can be a single frame far
 * larger than any sensible bound; it must not make its own connection look like a slow
 * consumer, nor the small Completion right behind it. So the bound applies to what is
 * queued beyond the largest frame written since the queue was last seen within the bound:
 * memory stays below `maxBytes` plus that one frame, and a consumer that never drains is
 * still closed.
 */
export class SendAllowance {
  private largestFrame = 0;

  constructor(private readonly maxBytes: number) {}

  /** `queuedBytes` now include a frame of `frameBytes`; false when over the bound. */
  check(queuedBytes: number, frameBytes: number): boolean {
    if (queuedBytes <= this.maxBytes) {
      this.largestFrame = 0;
      return true;
    }
    this.largestFrame = Math.max(this.largestFrame, frameBytes);
    return queuedBytes - this.largestFrame <= this.maxBytes;
  }
}
