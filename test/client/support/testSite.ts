import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TestSite {
  /** The site's origin (another one than statuscast's). */
  readonly url: string;
  close(): Promise<void>;
}

/** Serves fixed files (`path → [content type, body]`) from its own port: an app on another origin than statuscast. */
export async function startTestSite(files: Readonly<Record<string, readonly [string, string]>>): Promise<TestSite> {
  const server: Server = createServer((req, res) => {
    const file = files[(req.url ?? '/').split(/[?#]/)[0]!];
    if (file) res.writeHead(200, { 'content-type': file[0] }).end(file[1]);
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
