import { AUDIT_KEY_FILE, loadAuditSigner } from '../../../src/audit/auditKeys.ts';
import { randomBytes } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadOrCreateDevKeys } from '../../../src/auth/devKeys.ts';
import { mintDevToken } from '../../../src/auth/mintDevToken.ts';
import { startServerProcess } from '../../support/childProcess.ts';
import { type EventStoreDbStandIn, startEventStoreDbStandIn } from '../../support/eventStoreDbStandIn/index.ts';
import { makeTempDir } from '../../support/tempDir.ts';

export interface Node {
  readonly name: 'A' | 'B';
  readonly url: string;
  readonly child: ChildProcess;
  readonly output: () => string;
}

export interface TwoNodes {
  readonly esdb: EventStoreDbStandIn;
  readonly a: Node;
  readonly b: Node;
  /** A dev-mode user token both nodes accept (they share the dev key). */
  token(sub: string, roles?: readonly string[]): Promise<string>;
  /** `POST /ingest/status` on `node` as a publisher; throws unless 202. */
  ingest(node: Node, body: unknown): Promise<{ results: { outcome: string; revision?: number }[] }>;
  /** GET as `sub` on `node`, parsed JSON, or `undefined` on 404. */
  get(node: Node, path: string, token: string): Promise<any>;
  close(): Promise<void>;
}

/**
 * Two statuscast processes (`src/main.ts`, as `npm start` runs it) sharing one EventStoreDB —
 * the stand-in, served from this test process — each with its own DATA_DIR (read models,
 * checkpoint), the same `STREAM_TOKEN_SECRET`, and the same dev-mode and audit keys (copied
 * into both DATA_DIRs, as docker-compose.yml shares them through a volume).
 */
export async function startTwoNodes(): Promise<TwoNodes> {
  const esdb = await startEventStoreDbStandIn();
  const dirs = [makeTempDir('node-a'), makeTempDir('node-b'), makeTempDir('dev-key')];
  const [dirA, dirB, keyDir] = dirs as [typeof dirs[0], typeof dirs[0], typeof dirs[0]];
  const keys = await loadOrCreateDevKeys(keyDir.path);
  await loadAuditSigner({ configured: undefined, dataDir: keyDir.path });
  for (const dir of [dirA, dirB]) {
    for (const file of ['dev-auth-key.json', AUDIT_KEY_FILE]) copyFileSync(join(keyDir.path, file), join(dir.path, file));
  }
  const env = {
    EVENTSTORE_CONNECTION_STRING: esdb.connectionString,
    STREAM_TOKEN_SECRET: randomBytes(32).toString('base64url'),
    LOG_LEVEL: 'warn',
    SHUTDOWN_GRACE_MS: '2000',
    // Never inherit a Service Bus or Azure SignalR configuration from the developer's shell.
    SERVICEBUS_CONNECTION_STRING: '',
    AZURE_SIGNALR_CONNECTION_STRING: '',
  };
  const started = await Promise.allSettled([
    startServerProcess({ ...env, DATA_DIR: dirA.path }),
    startServerProcess({ ...env, DATA_DIR: dirB.path }),
  ]);
  const children = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value.child] : []));

  async function close(): Promise<void> {
    await Promise.all(children.map(stopChild));
    await esdb.stop();
    for (const dir of dirs) dir.remove();
  }

  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    await close();
    throw failed.reason;
  }
  const [a, b] = started.map((s, i) => {
    const value = (s as PromiseFulfilledResult<Awaited<ReturnType<typeof startServerProcess>>>).value;
    return { name: i === 0 ? 'A' : 'B', ...value } as Node;
  }) as [Node, Node];

  let publisher: string | undefined;
  const token = (sub: string, roles: readonly string[] = []) => mintDevToken(keys, { sub, roles });
  return {
    esdb,
    a,
    b,
    token,
    async ingest(node, body) {
      publisher ??= await token('worker', ['publisher']);
      const response = await fetch(`${node.url}/ingest/status`, {
        method: 'POST',
        headers: { authorization: `Bearer ${publisher}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (response.status !== 202) throw new Error(`node ${node.name} answered ${response.status}: ${await response.text()}`);
      return (await response.json()) as { results: { outcome: string; revision?: number }[] };
    },
    async get(node, path, userToken) {
      const response = await fetch(`${node.url}${path}`, { headers: { authorization: `Bearer ${userToken}` } });
      if (response.status === 404) return undefined;
      if (response.status !== 200) throw new Error(`node ${node.name} answered ${response.status} for ${path}`);
      return response.json();
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
