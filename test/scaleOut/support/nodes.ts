import { randomBytes } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { AUDIT_KEY_FILE, loadAuditSigner } from '../../../src/audit/auditKeys.ts';
import { loadOrCreateDevKeys } from '../../../src/auth/devKeys.ts';
import { mintDevToken } from '../../../src/auth/mintDevToken.ts';
import { startServerProcess } from '../../support/childProcess.ts';
import { makeTempDir } from '../../support/tempDir.ts';

export interface Node {
  readonly name: string;
  readonly url: string;
  readonly child: ChildProcess;
  readonly output: () => string;
}

export interface Nodes {
  readonly all: readonly Node[];
  /** A dev-mode user token every node accepts (they share the dev key). */
  token(sub: string, roles?: readonly string[]): Promise<string>;
  /** `POST /ingest/status` on `node` as a publisher; throws unless 202. */
  ingest(node: Node, body: unknown): Promise<{ results: { outcome: string; revision?: number; position?: string }[] }>;
  /** GET as `sub` on `node`, parsed JSON, or `undefined` on 404. */
  get(node: Node, path: string, token: string): Promise<any>;
  /** SIGKILL: the process dies mid-whatever, as on a crashed machine. */
  kill(node: Node): Promise<void>;
  /** Starts one more node like the others, with an empty DATA_DIR of its own. */
  add(): Promise<Node>;
  close(): Promise<void>;
}

/**
 * Statuscast processes (`src/main.ts`, as `npm start` runs it) sharing one event store named
 * by `storeEnv`, each with its own DATA_DIR (read models, checkpoint), the same
 * `STREAM_TOKEN_SECRET`, and the same dev-mode and audit keys (copied into every DATA_DIR, as
 * docker-compose.yml shares it through a volume). Nodes are named A, B, C, …
 */
export async function startNodes(count: number, storeEnv: Record<string, string>, extraEnv: Record<string, string> = {}): Promise<Nodes> {
  const keyDir = makeTempDir('dev-key');
  const keys = await loadOrCreateDevKeys(keyDir.path);
  await loadAuditSigner({ configured: undefined, dataDir: keyDir.path });
  const newDataDir = (index: number) => {
    const dir = makeTempDir(`node-${index}`);
    for (const file of ['dev-auth-key.json', AUDIT_KEY_FILE]) copyFileSync(join(keyDir.path, file), join(dir.path, file));
    return dir;
  };
  const dirs = Array.from({ length: count }, (_, i) => newDataDir(i));
  const env = {
    ...storeEnv,
    STREAM_TOKEN_SECRET: randomBytes(32).toString('base64url'),
    LOG_LEVEL: 'warn',
    SHUTDOWN_GRACE_MS: '2000',
    // Never inherit a Service Bus or Azure SignalR configuration from the developer's shell.
    SERVICEBUS_CONNECTION_STRING: '',
    AZURE_SIGNALR_CONNECTION_STRING: '',
    ...extraEnv,
  };
  const started = await Promise.allSettled(dirs.map((dir) => startServerProcess({ ...env, DATA_DIR: dir.path })));
  const children = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value.child] : []));

  async function close(): Promise<void> {
    await Promise.all(children.map(stopChild));
    for (const dir of [...dirs, keyDir]) dir.remove();
  }

  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    await close();
    throw failed.reason;
  }
  const all: Node[] = started.map((s, i) => {
    const value = (s as PromiseFulfilledResult<Awaited<ReturnType<typeof startServerProcess>>>).value;
    return { name: String.fromCharCode(65 + i), ...value } as Node;
  });

  let publisher: string | undefined;
  const token = (sub: string, roles: readonly string[] = []) => mintDevToken(keys, { sub, roles });
  return {
    all,
    token,
    async ingest(node, body) {
      publisher ??= await token('worker', ['publisher']);
      const response = await fetch(`${node.url}/ingest/status`, {
        method: 'POST',
        headers: { authorization: `Bearer ${publisher}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (response.status !== 202) throw new Error(`node ${node.name} answered ${response.status}: ${await response.text()}`);
      return (await response.json()) as { results: { outcome: string; revision?: number; position?: string }[] };
    },
    async get(node, path, userToken) {
      const response = await fetch(`${node.url}${path}`, { headers: { authorization: `Bearer ${userToken}` } });
      if (response.status === 404) return undefined;
      if (response.status !== 200) throw new Error(`node ${node.name} answered ${response.status} for ${path}`);
      return response.json();
    },
    async add() {
      const dir = newDataDir(dirs.length);
      dirs.push(dir);
      const started = await startServerProcess({ ...env, DATA_DIR: dir.path });
      children.push(started.child);
      const node = { name: String.fromCharCode(65 + all.length), ...started };
      all.push(node);
      return node;
    },
    async kill(node) {
      if (node.child.exitCode !== null || node.child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => node.child.once('exit', () => resolve()));
      node.child.kill('SIGKILL');
      await exited;
    },
    close,
  };
}

/** SIGTERM (graceful stop), then SIGKILL if the process has not exited in time. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 8_000);
  await exited;
  clearTimeout(timer);
}
