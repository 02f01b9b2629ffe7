// The no-bundler build: dist/browser/statuscast-client.js, one ES module with the SignalR
// client inside, for a plain <script type="module"> (README: "Use it without a bundler").
// Run by `npm run build` after tsc.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
await build({
  entryPoints: [`${root}src/index.ts`],
  outfile: `${root}dist/browser/statuscast-client.js`,
  bundle: true,
  minify: true,
  sourcemap: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2022'],
  legalComments: 'eof',
  logLevel: 'warning',
});
