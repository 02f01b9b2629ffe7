import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, startTestServer } from '../support/testServer.ts';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '../..');
const TSX = join(ROOT, 'node_modules/.bin/tsx');

function demo(args: string[]) {
  return run(TSX, ['src/cli/demo.ts', ...args], { cwd: ROOT, timeout: 60_000 });
}

describe('npm run demo', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server?.close());

  it('publishes realistic jobs for the user it names, ending succeeded or failed', async () => {
    const { stdout } = await demo(['--url', server.url, '--user', 'newcomer', '--pace', '0']);
    expect(stdout).toContain(`sign in as "newcomer"`);
    await server.projected();
    const response = await fetch(`${server.url}/jobs`, { headers: { authorization: `Bearer ${await server.token('newcomer')}` } });
    const { jobs } = (await response.json()) as { jobs: { job_id: string; revision: number; meta: { stage_order: string[] | null }; latest_status: { state: string } }[] };
    expect(jobs).toHaveLength(4);
    const states = Object.fromEntries(jobs.map((job) => [job.job_id.split('-')[0], job.latest_status.state]));
    expect(states).toEqual({ report: 'succeeded', train: 'succeeded', deploy: 'failed', import: 'succeeded' });
    for (const job of jobs) {
      expect(job.revision).toBeGreaterThanOrEqual(6);
      expect(job.meta.stage_order?.[0]).toBe('queued');
    }
  });

  it('says clearly when the service cannot be reached', async () => {
    const failure = await demo(['--url', 'http://127.0.0.1:9', '--pace', '0']).catch((error: { code: number; stderr: string }) => error);
    expect(failure).toMatchObject({ code: 1 });
    expect((failure as { stderr: string }).stderr).toMatch(/cannot reach http:\/\/127\.0\.0\.1:9/);
  });
});
