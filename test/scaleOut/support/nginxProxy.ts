import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { ROOT } from '../../support/childProcess.ts';
import { makeTempDir } from '../../support/tempDir.ts';
import { eventually } from '../../support/testServer.ts';

/** The nginx binary to run the committed proxy config with: `NGINX_BIN`, else a system one. */
export function findNginx(): string | undefined {
  const candidates = [process.env['NGINX_BIN'], '/usr/sbin/nginx', '/usr/local/sbin/nginx'];
  return candidates.find((path): path is string => !!path && existsSync(path));
}

export interface RunningProxy {
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * Runs `deploy/nginx.conf` — the file docker-compose.yml mounts — on loopback, with only what
 * a test needs changed: the two upstream addresses, the listen address, file paths, and a
 * response header naming the upstream that answered (so routing can be observed). Every
 * substitution must match, so the test breaks if the committed config changes shape.
 */
export async function startNginxProxy(nginx: string, upstreams: { a: string; b: string }): Promise<RunningProxy> {
  const dir = makeTempDir('nginx');
  chmodSync(dir.path, 0o755);
  for (const sub of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) {
    mkdirSync(join(dir.path, sub));
    chmodSync(join(dir.path, sub), 0o777);
  }
  const port = await freePort();
  let conf = readFileSync(join(ROOT, 'deploy/nginx.conf'), 'utf8');
  const substitute = (from: string | RegExp, to: string) => {
    const next = conf.replace(from, to);
    if (next === conf) throw new Error(`deploy/nginx.conf no longer contains ${String(from)}`);
    conf = next;
  };
  substitute('worker_processes auto;', `worker_processes 1;\npid ${dir.path}/nginx.pid;\nerror_log ${dir.path}/error.log warn;`);
  substitute(
    'http {',
    `http {\n  access_log off;\n${['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
      .map((kind) => `  ${kind}_temp_path ${dir.path}/${kind === 'client_body' ? 'body' : kind};`)
      .join('\n')}`,
  );
  substitute(/statuscast-a:3000/g, upstreams.a);
  substitute(/statuscast-b:3000/g, upstreams.b);
  substitute('listen 80;', `listen 127.0.0.1:${port};`);
  substitute(/(add_header Set-Cookie [^\n]*\n)/, '$1      add_header X-Test-Upstream $upstream_addr always;\n');
  const confPath = join(dir.path, 'nginx.conf');
  writeFileSync(confPath, conf);

  const child: ChildProcess = spawn(nginx, ['-p', dir.path, '-e', join(dir.path, 'error.log'), '-c', confPath, '-g', 'daemon off;'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    dir.remove();
  };
  try {
    await eventually(
      async () => {
        if (child.exitCode !== null) throw new Error(`nginx exited: ${output}`);
        return (await fetch(`${url}/healthz`).catch(() => undefined))?.ok;
      },
      10_000,
      'nginx to proxy /healthz',
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, stop };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
