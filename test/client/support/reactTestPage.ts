import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { type TestSite, startTestSite } from './testSite.ts';

const PAGE_DIR = fileURLToPath(new URL('../reactPage/', import.meta.url));

const HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>statuscast React test page</title>
<script type="module" src="/app.js"></script></head>
<body><div id="root"></div></body></html>`;

/**
 * Bundles test/client/reactPage/main.tsx with esbuild (React's development build, so its
 * StrictMode checks and warnings run) and serves it from its own HTTP server on another port,
 * i.e. another origin than statuscast, as an app that embeds the client would be.
 */
export async function startReactTestPage(): Promise<TestSite> {
  const result = await build({
    entryPoints: [`${PAGE_DIR}main.tsx`],
    tsconfig: `${PAGE_DIR}tsconfig.json`,
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: ['es2022'],
    jsx: 'automatic',
    define: { 'process.env.NODE_ENV': '"development"' },
    logLevel: 'silent',
  });
  return startTestSite({ '/': ['text/html', HTML], '/app.js': ['text/javascript', result.outputFiles[0]!.text] });
}
