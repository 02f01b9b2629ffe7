import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../support/childProcess.ts';
import { eventually, startTestServer, status, type TestServer } from '../support/testServer.ts';

/** `npx statuscast …` from the repository root: the workspace's bin, as a user's project would run it. */
function statuscast(args: string[], env: Record<string, string>): { child: ChildProcess; stdout: () => string; stderr: () => string; exit: Promise<number | null> } {
  const child = spawn('npx', ['--no-install', 'statuscast', ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk) => (stdout += chunk));
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const exit = new Promise<number | null>((resolve) => child.on('close', resolve));
  return { child, stdout: () => stdout, stderr: () => stderr, exit };
}

describe('npx statuscast follow <job_id> (Node)', () => {
  let server: TestServer;
  let token: string;
  beforeAll(async () => {
    // The bin runs the built package, as it would from npm.
    await promisify(execFile)('npm', ['run', 'build', '-w', '@statuscast/client'], { cwd: ROOT });
    server = await startTestServer();
    token = await server.token('alice');
  }, 120_000);
  afterAll(async () => {
    await server?.close();
  });

  it('prints the timeline, then each status live, and exits 0 when the job reaches a terminal state', async () => {
    for (let i = 1; i <= 2; i++) await server.ingest(status({ job_id: 'job-cli', user_id: 'alice', stage: 'fetch', message: `step ${i}` }));
    await server.projected();
    const run = statuscast(['follow', 'job-cli', '--url', server.url], { STATUSCAST_TOKEN: token });
    await eventually(() => run.stderr().includes('live (websockets)'), 20_000, 'the follower to go live');
    expect(run.stdout().trim().split('\n')).toHaveLength(2);
    await server.ingest(status({ job_id: 'job-cli', user_id: 'alice', stage: 'parse', message: 'step 3', progress: 0.5, cycle: 2 }));
    await server.ingest(status({ job_id: 'job-cli', user_id: 'alice', stage: 'done', state: 'succeeded', message: 'all done', artifact: 'out.pdf', progress: 1 }));
    expect(await run.exit).toBe(0);
    const lines = run.stdout().trim().split('\n');
    expect(lines.map((line) => line.split('  ')[0])).toEqual(['#1', '#2', '#3', '#4']);
    expect(lines[2]).toMatch(/^#3 {2}\S+ {2}parse {2}running {2}50% {2}cycle 2 {2}step 3$/);
    expect(lines[3]).toMatch(/^#4 {2}\S+ {2}done {2}succeeded {2}100% {2}all done {2}artifact out\.pdf$/);
    expect(run.stderr()).toContain('statuscast: job job-cli succeeded');
  }, 30_000);

  it('prints JSON lines with --json and exits at once for a job that is already finished', async () => {
    await server.ingest(status({ job_id: 'job-done', user_id: 'alice', state: 'cancelled', message: 'stopped' }));
    await server.projected();
    const run = statuscast(['follow', 'job-done', '--url', server.url, '--json', '--transport', 'sse'], { STATUSCAST_TOKEN: token });
    expect(await run.exit).toBe(0);
    expect(run.stdout().trim().split('\n').map((line) => JSON.parse(line))).toEqual([
      expect.objectContaining({ job_id: 'job-done', revision: 1, state: 'cancelled', message: 'stopped' }),
    ]);
  }, 30_000);

  it('exits 1 for a job it cannot see, and 2 without a token or with a wrong command', async () => {
    await server.ingest(status({ job_id: 'job-bob', user_id: 'bob' }));
    const hidden = statuscast(['follow', 'job-bob', '--url', server.url], { STATUSCAST_TOKEN: token });
    expect(await hidden.exit).toBe(1);
    expect(hidden.stderr()).toMatch(/cannot follow the job/);
    const noToken = statuscast(['follow', 'job-cli', '--url', server.url], { STATUSCAST_TOKEN: '' });
    expect(await noToken.exit).toBe(2);
    expect(noToken.stderr()).toContain('STATUSCAST_TOKEN');
    const wrong = statuscast(['watch', 'job-cli'], { STATUSCAST_TOKEN: token });
    expect(await wrong.exit).toBe(2);
    expect(wrong.stderr()).toContain('Usage: statuscast follow <job_id>');
  }, 30_000);
});
