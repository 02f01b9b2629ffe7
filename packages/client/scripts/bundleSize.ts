import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/** Sizes in bytes of one browser bundle: minified, and minified then gzipped (level 9). */
export interface BundleSize {
  readonly minified: number;
  readonly gzipped: number;
}

export interface BundleSizes {
  /** `followJob` with everything it needs except the SignalR client (kept external). */
  readonly client: BundleSize;
  /** The same with the SignalR client bundled in. */
  readonly withSignalR: BundleSize;
  /** The same without React: `followJob` and `useJob` from `@statuscast/client/react` (React external). */
  readonly react: BundleSize;
}

const SRC = fileURLToPath(new URL('../src/', import.meta.url));

async function bundle(code: string, external: string[]): Promise<BundleSize> {
  const result = await build({
    stdin: { contents: code, resolveDir: SRC, loader: 'ts' },
    bundle: true,
    write: false,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022'],
    external,
    legalComments: 'none',
    logLevel: 'silent',
  });
  const js = result.outputFiles[0]!.contents;
  return { minified: js.byteLength, gzipped: gzipSync(js, { level: 9 }).byteLength };
}

/**
 * What a browser app pays for `followJob` (the budget: at most 20 KB min+gzip on top
 * of the SignalR client), measured the way an app bundler would produce it: esbuild, ESM,
 * minified, tree-shaken from the package's sources.
 */
export async function measureBundleSizes(): Promise<BundleSizes> {
  const followJob = `import { followJob } from './index.ts'; globalThis.follow = followJob;`;
  const useJob = `import { useJob } from './react/index.ts'; globalThis.useJob = useJob;`;
  return {
    client: await bundle(followJob, ['@microsoft/signalr']),
    withSignalR: await bundle(followJob, []),
    react: await bundle(useJob, ['@microsoft/signalr', 'react']),
  };
}

// `npx tsx packages/client/scripts/bundleSize.ts` prints the figures.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const sizes = await measureBundleSizes();
  const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
  for (const [name, size] of Object.entries(sizes)) console.log(`${name.padEnd(12)} ${kb(size.minified).padStart(9)} minified  ${kb(size.gzipped).padStart(8)} min+gzip`);
  console.log(`SignalR client alone (as followJob uses it): ${kb(sizes.withSignalR.gzipped - sizes.client.gzipped)} min+gzip (difference)`);
}
