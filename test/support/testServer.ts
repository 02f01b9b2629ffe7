import { type Logger, pino } from 'pino';
import { mintDevToken } from '../../src/auth/mintDevToken.ts';
import { loadConfig } from '../../src/config.ts';
import { JOB_STREAM_PREFIX } from '../../src/domain/job/events.ts';
import type { GlobalPosition } from '../../src/store/position.ts';
import { type RunningServer, type ServerOverrides, startServer } from '../../src/server.ts';
import { makeTempDir } from './tempDir.ts';

export interface TestServer {
  readonly server: RunningServer;
  readonly url: string;
  readonly dataDir: string;
  /** A dev-mode user token for `sub` with the given roles. */
  token(sub: string, roles?: readonly string[]): Promise<string>;
  /** POSTs to /ingest/status as a publisher; returns status and parsed body. */
  ingest(body: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any }>;
  /** Waits until the read models include everything appended so far. */
  projected(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts the real server (composition root, real store, real HTTP) on an ephemeral
 * loopback port with its own temporary DATA_DIR.
 */
export async function startTestServer(
  env: Record<string, string> = {},
  overrides: ServerOverrides & { dataDir?: string } = {},
): Promise<TestServer> {
  const dir = overrides.dataDir ? undefined : makeTempDir('server');
  const dataDir = overrides.dataDir ?? dir!.path;
  const config = loadConfig({ DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', ...env });
  const logger: Logger = overrides.logger ?? pino({ level: process.env['TEST_LOG_LEVEL'] ?? 'silent' });
  const server = await startServer(config, { ...overrides, logger });
  let publisherToken: string | undefined;
  const token = (sub: string, roles: readonly string[] = []) => mintDevToken(server.devKeys!, { sub, roles });
  return {
    server,
    url: server.url,
    dataDir,
    token,
    async ingest(body, headers = {}) {
      publisherToken ??= await token('worker', ['publisher']);
      const response = await fetch(`${server.url}/ingest/status`, {
        method: 'POST',
        headers: { authorization: `Bearer ${publisherToken}`, 'content-type': 'application/json', ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : undefined };
    },
    async projected() {
      // The last job event, not the store's head: on EventStoreDB the head may be a record of
      // the server's own that the projection passes only at its next checkpoint.
      let last: GlobalPosition | undefined;
      for await (const event of server.store.readAll({ after: server.projections.checkpoint ?? 'start', filter: { streamNamePrefixes: [JOB_STREAM_PREFIX] } })) {
        last = event.position;
      }
      if (last && !(await server.projections.waitFor(last, 10_000))) throw new Error('projection did not catch up');
    },
    async close() {
      await server.close();
      dir?.remove();
    },
  };
}

let counter = 0;

/** A valid status message; override any field. */
export function status(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  counter += 1;
  return {
    message_id: `msg-${process.pid}-${counter}`,
    job_id: 'job-42',
    user_id: 'alice',
    stage: 'parsing',
    state: 'running',
    message: `step ${counter}`,
    progress: 0.5,
    ts: new Date(Date.UTC(2026, 10, 20, 10, 0, 0, counter)).toISOString(),
    ...overrides,
  };
}

/** Polls `check` until it returns a truthy value or the time runs out. */
export async function eventually<T>(check: () => T | Promise<T>, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
