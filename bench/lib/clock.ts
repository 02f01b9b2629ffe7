import { performance } from 'node:perf_hooks';

/**
 * Milliseconds since the epoch with sub-millisecond resolution. Every process on the machine
 * reads the same system clock, so a timestamp taken by the publisher and one taken by a
 * client in another process can be subtracted (append→client latency).
 */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
