import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

export interface ReactTestPage {
  /** The page's origin (another one than statuscast's). */
  readonly url: string;
  close(): Promise<void>;
}

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
export async function startReactTestPage(): Promise<ReactTestPage> {
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
  const js = result.outputFiles[0]!.text;
  const server: Server = createServer((req, res) => {
    if (req.url === '/app.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(js);
    else if (req.url === '/' || req.url?.startsWith('/#')) res.writeHead(200, { 'content-type': 'text/html' }).end(HTML);
    else if (req.url === '/favicon.ico') res.writeHead(204).end();
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
