import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

/** The page's script, bundled in memory. */
export interface WebBundle {
  readonly js: string;
  readonly map: string;
}

/**
 * Bundles `web/src/main.ts` (TypeScript) into one ES module with esbuild — the same
 * compiler tsx runs the service with — and keeps it in memory. The page imports
 * `@statuscast/client` from its sources (`paths` in web/tsconfig.json) and, through it, the
 * official SignalR client from node_modules. The bundle is rebuilt when a file under
 * `web/src` or the client package's sources changes, so editing the page needs a reload,
 * not a restart. Returns a function that resolves to the current bundle.
 */
export function createWebBundle(webDir: string): () => Promise<WebBundle> {
  const sourceDir = join(webDir, 'src');
  const watched = [sourceDir, join(webDir, '../packages/client/src')];
  let cached: { stamp: string; bundle: Promise<WebBundle> } | undefined;

  async function bundle(): Promise<WebBundle> {
    const result = await build({
      entryPoints: [join(sourceDir, 'main.ts')],
      outdir: join(webDir, 'assets'),
      entryNames: 'app',
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'browser',
      target: ['es2022'],
      minify: true,
      sourcemap: 'linked',
      legalComments: 'none',
      logLevel: 'silent',
    });
    const js = result.outputFiles.find((file) => file.path.endsWith('.js'));
    const map = result.outputFiles.find((file) => file.path.endsWith('.js.map'));
    if (!js || !map) throw new Error('esbuild produced no page bundle');
    return { js: js.text, map: map.text };
  }

  return () => {
    const stamp = watched.map(sourceStamp).join('|');
    if (!cached || cached.stamp !== stamp) {
      const next = { stamp, bundle: bundle() };
      cached = next;
      // A failed build is retried on the next request instead of being cached.
      next.bundle.catch(() => {
        if (cached === next) cached = undefined;
      });
    }
    return cached.bundle;
  };
}

/** Names, sizes and modification times of the page sources: changes when any file does. */
function sourceStamp(dir: string): string {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => {
      const path = join(entry.parentPath, entry.name);
      const stat = statSync(path);
      return `${path}:${stat.size}:${stat.mtimeMs}`;
    })
    .sort()
    .join('|');
}
