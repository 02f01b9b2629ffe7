import { once } from 'node:events';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTs, startServerProcess } from '../support/childProcess.ts';
import { makeTempDir } from '../support/tempDir.ts';
import { type TestServer, eventually, startTestServer, status } from '../support/testServer.ts';

describe('command-line tools and process behaviour', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
    await t.ingest({ messages: Array.from({ length: 5 }, () => status({ job_id: 'cli-1' })) });
    await t.projected();
  });
  afterAll(async () => {
    await t.close();
  });

  it('npm run token prints a dev token the service accepts, with the given roles', async () => {
    const { code, stdout } = await runTs('src/cli/token.ts', ['--sub', 'alice', '--roles', 'admin,publisher'], { DATA_DIR: t.dataDir });
    expect(code).toBe(0);
    const token = stdout.trim();
    expect(decodeJwt(token)).toMatchObject({ sub: 'alice', roles: ['admin', 'publisher'], iss: 'statuscast-dev' });
    const response = await fetch(`${t.url}/jobs`, { headers: { authorization: `Bearer ${token}` } });
    expect(response.status).toBe(200);
  });

  it('npm run replay prints the raw stream as NDJSON (mints an auditor token in dev mode)', async () => {
    const { code, stdout } = await runTs('src/cli/replay.ts', ['--job', 'cli-1', '--after', '2', '--url', t.url], { DATA_DIR: t.dataDir });
    expect(code).toBe(0);
    const lines = stdout.trim().split('\n').map((line) => JSON.parse(line));
    expect(lines.slice(0, -1).map((e) => [e.revision, e.type])).toEqual([
      [3, 'StatusReported'],
      [4, 'StatusReported'],
      [5, 'StatusReported'],
    ]);
    expect(lines.at(-1).checkpoint).toMatchObject({ job_id: 'cli-1', revision: 5, hash: lines[2].hash });
  });

  it('npm run rebuild-projections rebuilds the read models while the service keeps serving them', async () => {
    const { code, stdout } = await runTs('src/cli/rebuildProjections.ts', [], { DATA_DIR: t.dataDir, LOG_LEVEL: 'silent' });
    expect(code).toBe(0);
    expect(stdout).toMatch(/rebuilt read models from the store: 1 jobs, 5 timeline entries/);
    // The running service noticed the moved checkpoint and keeps projecting new events.
    await t.ingest(status({ job_id: 'cli-1' }));
    const alice = await t.token('alice');
    await eventually(async () => {
      const job = await fetch(`${t.url}/jobs/cli-1`, { headers: { authorization: `Bearer ${alice}` } }).then((r) => r.json() as Promise<any>);
      return job.meta.revision === 6 && job.timeline_events.length === 6;
    }, 10_000, 'the service to project after the rebuild');
  });

  it('refuses to start on a bad variable with one line naming it, exit code non-zero', async () => {
    for (const [name, value] of <[string, string][]>[['PORT', 'eighty'], ['READY_MAX_LAG', '-1'], ['AUTH_JWKS_URL', 'not a url'], ['STORE_SYNC', 'sometimes']]) {
      const { code, stderr } = await runTs('src/main.ts', [], { [name]: value, DATA_DIR: t.dataDir });
      expect(code).not.toBe(0);
      const lines = stderr.trim().split('\n').filter((l) => !l.startsWith('npm warn'));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(new RegExp(`^statuscast: invalid configuration: ${name} `));
    }
    const { code, stderr } = await runTs('src/main.ts', [], { AUTH_JWKS_URL: 'https://id.example.com/.well-known/jwks.json', DATA_DIR: t.dataDir });
    expect(code).not.toBe(0);
    expect(stderr).toMatch(/AUTH_ISSUER is required when AUTH_JWKS_URL is set/);
  });

  it('shuts down gracefully on SIGTERM: open streams end, the process exits 0', async () => {
    const dir = makeTempDir('sigterm');
    try {
      const { child, url } = await startServerProcess({ DATA_DIR: dir.path });
      const token = (await runTs('src/cli/token.ts', ['--sub', 'alice', '--roles', 'publisher'], { DATA_DIR: dir.path })).stdout.trim();
      await fetch(`${url}/ingest/status`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(status({ job_id: 'term-1' })),
      });
      const stream = await fetch(`${url}/jobs/term-1/events`, { headers: { authorization: `Bearer ${token}` } });
      const reader = stream.body!.getReader();
      await reader.read();
      child.kill('SIGTERM');
      const [code] = await once(child, 'exit');
      expect(code).toBe(0);
      // The stream ended cleanly rather than hanging.
      let done = false;
      while (!done) done = (await reader.read().catch(() => ({ done: true }))).done;
    } finally {
      dir.remove();
    }
  });
});
