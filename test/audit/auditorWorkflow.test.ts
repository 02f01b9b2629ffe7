import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOrCreateDevKeys } from '../../src/auth/devKeys.ts';
import { mintDevToken } from '../../src/auth/mintDevToken.ts';
import { createIngestStatus } from '../../src/ingest/ingestStatus.ts';
import { createMetrics } from '../../src/observability/metrics.ts';
import { createJobCommandHandler } from '../../src/store/handleJobCommands.ts';
import { createJobDirectory } from '../../src/store/jobDirectory.ts';
import { createSqliteEventStore } from '../../src/store/sqlite/createSqliteEventStore.ts';
import { runTs, startServerProcess } from '../support/childProcess.ts';
import { makeTempDir } from '../support/tempDir.ts';
import { status } from '../support/testServer.ts';

/**
 * The auditor's workflow of docs/audit.md, with the real commands against a real service
 * process, on a store that was written before the audit chain existed.
 */
describe('auditor workflow (docs/audit.md)', () => {
  const dir = makeTempDir('auditor');
  const dataDir = join(dir.path, 'data');
  let service: Awaited<ReturnType<typeof startServerProcess>> | undefined;

  beforeAll(async () => {
    // What the previous version wrote: the same ingest path over the bare store, no chain.
    mkdirSync(dataDir, { recursive: true });
    const store = createSqliteEventStore({ file: join(dataDir, 'events.sqlite') });
    const handler = createJobCommandHandler({ store, directory: createJobDirectory(store) });
    const ingest = createIngestStatus({ handler, logger: pino({ level: 'silent' }), metrics: createMetrics({ defaultMetrics: false }) });
    for (const jobId of ['legacy-1', 'legacy-2']) {
      await ingest({ messages: Array.from({ length: 3 }, () => status({ job_id: jobId })) }, { source: 'http', ingestedBy: 'worker' });
    }
    await store.close();
  });
  afterAll(async () => {
    if (service && service.child.exitCode === null) {
      service.child.kill('SIGTERM');
      await new Promise((resolve) => service!.child.once('exit', resolve));
    }
    dir.remove();
  });

  const verify = (args: string[]) => runTs('src/cli/verify.ts', args, { DATA_DIR: dataDir, LOG_LEVEL: 'silent' });

  it('walks the store: an old stream is reported as not recorded until backfilled', async () => {
    const before = await verify(['--job', 'legacy-1']);
    expect(before.code).toBe(1);
    expect(before.stdout).toMatch(/^NOT VERIFIED job legacy-1: revision 0: not recorded \(.*npm run audit:backfill\)/);
  });

  it('exports, fetches the keys and verifies offline: three commands, then a tampered copy fails', async () => {
    service = await startServerProcess({ DATA_DIR: dataDir, LOG_LEVEL: 'warn' });
    const keys = await loadOrCreateDevKeys(dataDir);
    const publisher = await mintDevToken(keys, { sub: 'worker', roles: ['publisher'] });
    const more = await fetch(`${service.url}/ingest/status`, {
      method: 'POST',
      headers: { authorization: `Bearer ${publisher}`, 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [status({ job_id: 'legacy-2' }), status({ job_id: 'fresh-1' })] }),
    });
    expect(more.status).toBe(202);

    // 1. npm run replay -- --job legacy-2 > legacy-2.ndjson
    const replay = await runTs('src/cli/replay.ts', ['--job', 'legacy-2', '--url', service.url], { DATA_DIR: dataDir });
    expect(replay.code).toBe(0);
    const exportFile = join(dir.path, 'legacy-2.ndjson');
    writeFileSync(exportFile, replay.stdout);
    // 2. curl …/.well-known/statuscast-audit-keys.json > keys.json
    const keysFile = join(dir.path, 'keys.json');
    const jwks = await fetch(`${service.url}/.well-known/statuscast-audit-keys.json`);
    expect(jwks.headers.get('cache-control')).toMatch(/public/);
    writeFileSync(keysFile, await jwks.text());
    // 3. npm run verify -- legacy-2.ndjson --jwks keys.json
    const verified = await verify([exportFile, '--jwks', keysFile]);
    expect(verified.code).toBe(0);
    const head = JSON.parse(replay.stdout.trimEnd().split('\n').at(-1)!).checkpoint.hash;
    expect(verified.stdout).toContain(`verified job legacy-2: revisions 0–4, head ${head}\n`);
    // The export says which revisions predate the chain (recorded on the way, at export).
    expect(verified.stdout).toMatch(/revisions 0–3 predate the chain: their hashes were recorded at \S+Z/);
    const lines = replay.stdout.trimEnd().split('\n').map((line) => JSON.parse(line));
    expect(lines.slice(0, 4).every((e) => typeof e.backfilled_at === 'string' && e.metadata.hash === undefined)).toBe(true);
    expect(lines[4]).toMatchObject({ metadata: { prev_hash: lines[3].hash, hash: lines[4].hash } });
    expect(lines.at(-1).checkpoint.backfilled).toEqual([{ first_revision: 0, last_revision: 3, recorded_at: lines[0].backfilled_at }]);

    // The keys can also come from the service URL, or from DATA_DIR on the service's machine.
    expect((await verify([exportFile, '--jwks', `${service.url}/.well-known/statuscast-audit-keys.json`])).code).toBe(0);
    expect((await verify([exportFile])).code).toBe(0);

    const tampered = join(dir.path, 'tampered.ndjson');
    writeFileSync(tampered, readFileSync(exportFile, 'utf8').replace('step ', 'stap '));
    const rejected = await verify([tampered, '--jwks', keysFile]);
    expect(rejected.code).toBe(1);
    expect(rejected.stdout).toMatch(/^NOT VERIFIED job legacy-2: revision 1: data changed \(/);
  });

  it('npm run audit:backfill records the rest once; then the whole store verifies', async () => {
    const first = await runTs('src/cli/auditBackfill.ts', [], { DATA_DIR: dataDir });
    expect(first.code).toBe(0);
    // legacy-2 was recorded by its export already; legacy-1's four events are left.
    expect(first.stdout).toMatch(/^recorded the chain of 4 events written before it, in 2 job streams/);
    const again = await runTs('src/cli/auditBackfill.ts', [], { DATA_DIR: dataDir });
    expect(again.stdout).toMatch(/^recorded the chain of 0 events/);

    const all = await verify(['--all']);
    expect(all.code).toBe(0);
    expect(all.stdout).toBe('3 jobs verified, 0 not\n');
    const one = await verify(['--job', 'fresh-1']);
    expect(one.stdout).toMatch(/^verified job fresh-1: revisions 0–1, head [0-9a-f]{64}\n$/);
  });

  it('usage errors exit 2', async () => {
    expect((await verify([])).code).toBe(2);
    expect((await verify(['a.ndjson', '--all'])).code).toBe(2);
  });
});
