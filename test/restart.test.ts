import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { loadOrCreateDevKeys } from '../src/auth/devKeys.ts';
import { mintDevToken } from '../src/auth/mintDevToken.ts';
import { startServerProcess } from './support/childProcess.ts';
import { makeTempDir } from './support/tempDir.ts';
import { eventually, status } from './support/testServer.ts';

describe('restart', () => {
  it('keeps everything acknowledged with 202 across a SIGKILL, and the read model catches up', async () => {
    const dir = makeTempDir('restart');
    try {
      const keys = await loadOrCreateDevKeys(dir.path);
      const publisher = await mintDevToken(keys, { sub: 'worker', roles: ['publisher'] });
      const alice = await mintDevToken(keys, { sub: 'alice' });
      const first = await startServerProcess({ DATA_DIR: dir.path });
      const acknowledged: number[] = [];
      // Appends keep flowing while the process is killed: some requests are answered,
      // some are cut off. Every answered one must survive.
      const writer = (async () => {
        for (let i = 0; i < 400; i++) {
          try {
            const response = await fetch(`${first.url}/ingest/status`, {
              method: 'POST',
              headers: { authorization: `Bearer ${publisher}`, 'content-type': 'application/json' },
              body: JSON.stringify(status({ job_id: 'restart-1', message_id: `r-${i}` })),
            });
            if (response.status === 202) acknowledged.push(((await response.json()) as any).results[0].revision);
          } catch {
            return;
          }
        }
      })();
      await eventually(() => acknowledged.length >= 50, 20_000, '50 acknowledged appends');
      first.child.kill('SIGKILL');
      await once(first.child, 'exit');
      await writer;

      const second = await startServerProcess({ DATA_DIR: dir.path });
      try {
        const history = await fetch(`${second.url}/jobs/restart-1/history?limit=1000`, {
          headers: { authorization: `Bearer ${alice}` },
        }).then((r) => r.json() as Promise<any>);
        const stored = new Set(history.events.map((e: { revision: number }) => e.revision));
        for (const revision of acknowledged) expect(stored.has(revision)).toBe(true);
        expect(history.head_revision).toBeGreaterThanOrEqual(Math.max(...acknowledged));
        // The read model reaches the head the store has.
        await eventually(async () => {
          const job = await fetch(`${second.url}/jobs/restart-1`, { headers: { authorization: `Bearer ${alice}` } }).then((r) => r.json() as Promise<any>);
          return job.meta.revision === history.head_revision && job.timeline_events.length === history.head_revision;
        }, 10_000, 'the read model to catch up');
      } finally {
        second.child.kill('SIGTERM');
        await once(second.child, 'exit');
      }
    } finally {
      dir.remove();
    }
  }, 60_000);
});
