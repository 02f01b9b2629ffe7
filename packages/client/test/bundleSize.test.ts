import { describe, expect, it } from 'vitest';
import { measureBundleSizes } from '../scripts/bundleSize.ts';

describe('browser bundle size', () => {
  it('followJob costs at most 20 KB min+gzip on top of the SignalR client', async () => {
    const sizes = await measureBundleSizes();
    expect(sizes.client.gzipped).toBeLessThanOrEqual(20 * 1024);
    // Tree-shaking works: the SignalR client is in the full bundle, React in neither.
    expect(sizes.withSignalR.gzipped).toBeGreaterThan(sizes.client.gzipped);
    expect(sizes.react.gzipped - sizes.client.gzipped).toBeLessThan(2 * 1024);
  });
});
