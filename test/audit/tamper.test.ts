import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { CompactSign, type CryptoKey, exportJWK, generateKeyPair } from 'jose';
import canonicalize from 'canonicalize';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Jwks } from '../../src/audit/auditKeys.ts';
import { GENESIS_HASH, chainHash } from '../../src/audit/chainHash.ts';
import { CHECKPOINT_TYPE } from '../../src/audit/checkpoint.ts';
import { checkpointsIn, verifyExportFile } from '../../src/audit/verifyExport.ts';
import { verifyStoredStream } from '../../src/audit/verifyStore.ts';
import { type TestServer, startTestServer, status } from '../support/testServer.ts';
import { makeTempDir } from '../support/tempDir.ts';

/**
 * Each alteration an auditor must catch, made the way an attacker with access would make it:
 * in the SQLite file behind the running service, or in an export file. Every one is named
 * with its revision and reason, both by walking the store and by verifying an export offline.
 */
describe('tamper evidence', () => {
  let t: TestServer;
  let db: Database.Database;
  let jwks: Jwks;
  let jobCounter = 0;
  const files = makeTempDir('exports');

  beforeAll(async () => {
    t = await startTestServer();
    db = new Database(join(t.dataDir, 'events.sqlite'));
    jwks = (await (await fetch(`${t.url}/.well-known/statuscast-audit-keys.json`)).json()) as Jwks;
  });
  afterAll(async () => {
    db.close();
    await t.close();
    files.remove();
  });

  /** A fresh job of `messages` status messages: revisions 0 (JobRegistered) … messages. */
  async function job(messages = 6): Promise<string> {
    const jobId = `tamper-${++jobCounter}`;
    const answer = await t.ingest({ messages: Array.from({ length: messages }, () => status({ job_id: jobId })) });
    expect(answer.status).toBe(202);
    return jobId;
  }

  async function exportFile(jobId: string): Promise<string> {
    const auditor = await t.token('auditor-1', ['auditor']);
    const response = await fetch(`${t.url}/jobs/${jobId}/history`, { headers: { authorization: `Bearer ${auditor}`, accept: 'application/x-ndjson' } });
    expect(response.status).toBe(200);
    const file = join(files.path, `${jobId}-${Date.now()}.ndjson`);
    writeFileSync(file, await response.text());
    return file;
  }

  const verifyFile = (file: string) => verifyExportFile(file, { jwks });
  const verifyStore = (jobId: string) => verifyStoredStream(t.server.store, `job-${jobId}`);
  const row = (jobId: string, revision: number) =>
    db.prepare<[string, number], { id: string; type: string; data: string; metadata: string }>('SELECT id, type, data, metadata FROM events WHERE stream = ? AND revision = ?').get(`job-${jobId}`, revision)!;

  async function expectDetected(jobId: string, revision: number, reason: string) {
    expect(await verifyStore(jobId)).toMatchObject({ ok: false, revision, reason });
    expect(await verifyFile(await exportFile(jobId))).toMatchObject({ ok: false, jobId, revision, reason });
  }

  it('verifies an untouched job, in the store and as an export', async () => {
    const jobId = await job();
    expect(await verifyStore(jobId)).toMatchObject({ ok: true, lastRevision: 6 });
    const verdict = await verifyFile(await exportFile(jobId));
    expect(verdict).toMatchObject({ ok: true, jobId, firstRevision: 0, lastRevision: 6, backfilled: [] });
  });

  describe('in the SQLite file', () => {
    it('one byte of an event’s data changed: data changed, at that revision', async () => {
      const jobId = await job();
      const { data } = row(jobId, 3);
      const at = data.indexOf('step ') + 1;
      const altered = `${data.slice(0, at)}${data[at] === 't' ? 'T' : 't'}${data.slice(at + 1)}`;
      db.prepare('UPDATE events SET data = ? WHERE stream = ? AND revision = 3').run(altered, `job-${jobId}`);
      await expectDetected(jobId, 3, 'data changed');
      const metrics = await (await fetch(`${t.url}/metrics`)).text();
      expect(metrics).toMatch(/statuscast_audit_verify_failures_total\{reason="data changed"\} [1-9]/);
    });

    it('the last event altered, then the job goes on: the append is counted as a break, still accepted, and only that revision is named', async () => {
      const jobId = await job();
      const counted = async () => Number(/statuscast_audit_verify_failures_total\{reason="data changed"\} (\d+)/.exec(await (await fetch(`${t.url}/metrics`)).text())![1]);
      const before = await counted();
      const { data } = row(jobId, 6);
      db.prepare('UPDATE events SET data = ? WHERE stream = ? AND revision = 6').run(data.replace('step ', 'stap '), `job-${jobId}`);
      expect((await t.ingest(status({ job_id: jobId }))).status).toBe(202);
      expect(await counted()).toBe(before + 1);
      await expectDetected(jobId, 6, 'data changed');
      // Revision 7 chains from the hash revision 6 carries, so the chain names only revision 6.
      expect(JSON.parse(row(jobId, 7).metadata).prev_hash).toBe(JSON.parse(row(jobId, 6).metadata).hash);
    });

    it('an event deleted: event removed, at its revision', async () => {
      const jobId = await job();
      db.prepare('DELETE FROM events WHERE stream = ? AND revision = 3').run(`job-${jobId}`);
      await expectDetected(jobId, 3, 'event removed');
    });

    it('two events swapped: reordered, at the first of them', async () => {
      const jobId = await job();
      const a = row(jobId, 2);
      const b = row(jobId, 3);
      const swap = db.transaction(() => {
        const put = db.prepare('UPDATE events SET id = ?, type = ?, data = ?, metadata = ? WHERE stream = ? AND revision = ?');
        put.run(`${a.id}-moving`, b.type, b.data, b.metadata, `job-${jobId}`, 2);
        put.run(a.id, a.type, a.data, a.metadata, `job-${jobId}`, 3);
        db.prepare('UPDATE events SET id = ? WHERE stream = ? AND revision = 2').run(b.id, `job-${jobId}`);
      });
      swap();
      await expectDetected(jobId, 2, 'reordered');
    });

    it('a forged event appended with the metadata of the last one: inserted, at its revision', async () => {
      const jobId = await job();
      const last = row(jobId, 6);
      db.prepare('INSERT INTO events (stream, revision, id, type, data, metadata, recorded_at) VALUES (?, 7, ?, ?, ?, ?, ?)').run(
        `job-${jobId}`,
        `${last.id}-forged`,
        last.type,
        last.data.replace('"succeeded"', '"failed"').replace(/"message":"[^"]*"/, '"message":"all good"'),
        last.metadata,
        Date.now(),
      );
      await expectDetected(jobId, 7, 'inserted');
    });

    it('a forged event appended with no hash at all: inserted (never recorded as if it were old)', async () => {
      const jobId = await job();
      const last = row(jobId, 6);
      db.prepare('INSERT INTO events (stream, revision, id, type, data, metadata, recorded_at) VALUES (?, 7, ?, ?, ?, ?, ?)').run(
        `job-${jobId}`,
        `${last.id}-forged`,
        last.type,
        last.data,
        JSON.stringify({ ingested_by: 'worker', source: 'http' }),
        Date.now(),
      );
      await expectDetected(jobId, 7, 'inserted');
    });

    it('an event rewritten with a freshly computed hash: named at that revision, the next one no longer follows it', async () => {
      const jobId = await job();
      const original = row(jobId, 3);
      const metadata = JSON.parse(original.metadata) as Record<string, unknown>;
      const data = { ...(JSON.parse(original.data) as Record<string, unknown>), message: 'rewritten' };
      const hash = chainHash({ stream: `job-${jobId}`, revision: 3, type: original.type, data, metadata, prevHash: metadata['prev_hash'] as string });
      db.prepare('UPDATE events SET data = ?, metadata = ? WHERE stream = ? AND revision = 3').run(
        JSON.stringify(data),
        JSON.stringify({ ...metadata, hash }),
        `job-${jobId}`,
      );
      await expectDetected(jobId, 3, 'data changed');
    });
  });

  it('a rewrite that recomputes every later hash in the store passes alone (docs/audit.md: what it does not prove), and fails against a kept checkpoint', async () => {
    const jobId = await job();
    const anchor = await exportFile(jobId);
    const stream = `job-${jobId}`;
    const rows = db.prepare<[string], { revision: number; type: string; data: string; metadata: string }>('SELECT revision, type, data, metadata FROM events WHERE stream = ? ORDER BY revision').all(stream);
    const update = db.prepare('UPDATE events SET data = ?, metadata = ? WHERE stream = ? AND revision = ?');
    let prev = GENESIS_HASH;
    for (const r of rows) {
      const data = JSON.parse(r.data) as Record<string, unknown>;
      if (r.revision === 2) data['message'] = 'rewritten';
      const { hash: _old, ...rest } = JSON.parse(r.metadata) as Record<string, unknown>;
      const metadata = { ...rest, prev_hash: prev };
      const hash = chainHash({ stream, revision: r.revision, type: r.type, data, metadata, prevHash: prev });
      update.run(JSON.stringify(data), JSON.stringify({ ...metadata, hash }), stream, r.revision);
      prev = hash;
    }
    const rewritten = await exportFile(jobId);
    expect(await verifyStore(jobId)).toMatchObject({ ok: true });
    expect(await verifyFile(rewritten)).toMatchObject({ ok: true });
    const anchors = await checkpointsIn(anchor);
    expect(await verifyExportFile(rewritten, { jwks, anchors })).toMatchObject({ ok: false, revision: 6, reason: 'data changed', detail: expect.stringMatching(/rewritten since/) });
    // The genuine continuation of an anchored export agrees with it.
    await t.ingest(status({ job_id: jobId }));
    expect(await verifyExportFile(await exportFile(jobId), { jwks, anchors: await checkpointsIn(rewritten) })).toMatchObject({ ok: true, anchored: 1, lastRevision: 7 });
  });

  describe('in an export file', () => {
    function lines(file: string): string[] {
      return readFileSync(file, 'utf8').trimEnd().split('\n');
    }
    function rewrite(file: string, edit: (lines: string[]) => string[]): string {
      writeFileSync(file, `${edit(lines(file)).join('\n')}\n`);
      return file;
    }

    it('one byte of an event changed: data changed', async () => {
      const file = await exportFile(await job());
      rewrite(file, (all) => all.map((line, i) => (i === 2 ? line.replace('step ', 'stap ') : line)));
      expect(await verifyFile(file)).toMatchObject({ ok: false, revision: 2, reason: 'data changed' });
    });

    it('a line removed: event removed; two lines swapped: reordered; a line added after the checkpoint: inserted', async () => {
      const jobId = await job();
      const removed = rewrite(await exportFile(jobId), (all) => all.filter((_, i) => i !== 4));
      expect(await verifyFile(removed)).toMatchObject({ ok: false, revision: 4, reason: 'event removed' });
      const swapped = rewrite(await exportFile(jobId), (all) => [...all.slice(0, 3), all[4]!, all[3]!, ...all.slice(5)]);
      expect(await verifyFile(swapped)).toMatchObject({ ok: false, revision: 3, reason: 'reordered' });
      const appended = rewrite(await exportFile(jobId), (all) => [...all, all[5]!]);
      expect(await verifyFile(appended)).toMatchObject({ ok: false, revision: 7, reason: 'inserted' });
    });

    it('the last events cut off: event removed; the checkpoint cut off too: checkpoint missing', async () => {
      const jobId = await job();
      const cut = rewrite(await exportFile(jobId), (all) => [...all.slice(0, 5), all.at(-1)!]);
      expect(await verifyFile(cut)).toMatchObject({ ok: false, revision: 5, reason: 'event removed' });
      const truncated = rewrite(await exportFile(jobId), (all) => all.slice(0, 5));
      expect(await verifyFile(truncated)).toMatchObject({ ok: false, revision: 5, reason: 'checkpoint missing' });
    });

    it('an event changed and the whole chain recomputed after it: the signed head no longer matches', async () => {
      const file = await exportFile(await job());
      rewrite(file, (all) => {
        const events = all.slice(0, -1).map((line) => JSON.parse(line));
        events[2].data.message = 'rewritten';
        let prev = GENESIS_HASH;
        for (const event of events) {
          const metadata = { ...event.metadata, prev_hash: prev };
          delete metadata.hash;
          event.prev_hash = prev;
          event.hash = chainHash({ stream: `job-${events[0].data.job_id}`, revision: event.revision, type: event.type, data: event.data, metadata, prevHash: prev });
          event.metadata = { ...metadata, hash: event.hash };
          prev = event.hash;
        }
        return [...events.map((e) => JSON.stringify(e)), all.at(-1)!];
      });
      expect(await verifyFile(file)).toMatchObject({ ok: false, revision: 6, reason: 'signature invalid', detail: expect.stringMatching(/rewritten/) });
    });

    it('the checkpoint signed with another key: signature invalid', async () => {
      const file = await exportFile(await job());
      const other = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
      const { checkpoint } = JSON.parse(lines(file).at(-1)!);
      const { jws, ...stated } = checkpoint;
      // The impostor even claims the service's key id.
      const kid = JSON.parse(Buffer.from(jws.split('.')[0], 'base64url').toString()).kid;
      const forged = await signWith(other.privateKey, kid, stated);
      rewrite(file, (all) => [...all.slice(0, -1), JSON.stringify({ checkpoint: { ...stated, jws: forged } })]);
      expect(await verifyFile(file)).toMatchObject({ ok: false, revision: 6, reason: 'signature invalid' });
      // And the other way round: a genuine export against someone else's keys.
      const genuine = await exportFile(await job());
      const foreign = { keys: [{ ...(await exportJWK(other.publicKey)), kid, alg: 'EdDSA' }] };
      expect(await verifyExportFile(genuine, { jwks: foreign })).toMatchObject({ ok: false, revision: 6, reason: 'signature invalid' });
    });

    it('the checkpoint’s stated fields edited beside a genuine JWS: signature invalid', async () => {
      const file = await exportFile(await job());
      rewrite(file, (all) => {
        const { checkpoint } = JSON.parse(all.at(-1)!);
        return [...all.slice(0, -1), JSON.stringify({ checkpoint: { ...checkpoint, signed_at: '2030-01-01T00:00:00.000Z' } })];
      });
      expect(await verifyFile(file)).toMatchObject({ ok: false, reason: 'signature invalid', detail: expect.stringMatching(/differs from what was signed/) });
    });
  });
});

async function signWith(key: CryptoKey, kid: string, payload: object): Promise<string> {
  return new CompactSign(new TextEncoder().encode(canonicalize(payload)!)).setProtectedHeader({ alg: 'EdDSA', kid, typ: CHECKPOINT_TYPE }).sign(key);
}
