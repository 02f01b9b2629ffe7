import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobStreamName } from '../../src/domain/job/events.ts';
import { type EventStore, StoreUnavailableError, collect } from '../../src/store/eventStore.ts';
import { type TestServer, startTestServer, status } from '../support/testServer.ts';

async function streamTypes(store: EventStore, jobId: string): Promise<string[]> {
  return (await collect(store.readStream(jobStreamName(jobId)))).map((e) => e.type);
}

describe('POST /ingest/status', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    await t.close();
  });

  describe('outcomes', () => {
    it('registers a new job at revision 0 and appends the status at revision 1, durable before 202', async () => {
      const message = status({ job_id: 'out-1', meta: { stage_order: ['queued', 'parsing'], expected_cycles: 2 } });
      const { status: code, body } = await t.ingest(message);
      expect(code).toBe(202);
      expect(body.results).toEqual([
        { message_id: message['message_id'], job_id: 'out-1', outcome: 'appended', revision: 1, position: expect.any(String) },
      ]);
      // 202 means durable: the events are in the store the moment the answer arrives.
      const events = await collect(t.server.store.readStream(jobStreamName('out-1')));
      expect(events.map((e) => [e.revision, e.type])).toEqual([
        [0, 'JobRegistered'],
        [1, 'StatusReported'],
      ]);
      expect(events[0]!.data).toMatchObject({ user_id: 'alice', meta: { stage_order: ['queued', 'parsing'], expected_cycles: 2 } });
    });

    it('reports appended, duplicate, dropped and rejected per message in one batch', async () => {
      const first = status({ job_id: 'out-2' });
      const { status: code, body } = await t.ingest({
        messages: [
          first,
          { ...first },
          status({ job_id: 'out-2-unknown', user_id: undefined }),
          status({ job_id: 'out-2', user_id: 'mallory' }),
          status({ job_id: 'out-2', user_id: undefined, state: 'succeeded' }),
          status({ job_id: 'out-2' }),
        ],
      });
      expect(code).toBe(202);
      expect(body.results.map((r: any) => [r.job_id, r.outcome, r.revision ?? r.reason])).toEqual([
        ['out-2', 'appended', 1],
        ['out-2', 'duplicate', 1],
        ['out-2-unknown', 'dropped', 'user_id missing for unknown job'],
        ['out-2', 'rejected', "user_id does not match the job's owner"],
        ['out-2', 'appended', 2],
        ['out-2', 'rejected', 'job already succeeded; no further status is accepted'],
      ]);
      expect(await streamTypes(t.server.store, 'out-2')).toEqual(['JobRegistered', 'StatusReported', 'StatusReported']);
      expect(await streamTypes(t.server.store, 'out-2-unknown')).toEqual([]);
    });

    it('answers a retried message as a duplicate naming the original revision', async () => {
      const message = status({ job_id: 'out-3' });
      await t.ingest(message);
      await t.ingest(status({ job_id: 'out-3' }));
      const { body } = await t.ingest(message);
      expect(body.results[0]).toMatchObject({ outcome: 'duplicate', revision: 1 });
      expect(await streamTypes(t.server.store, 'out-3')).toHaveLength(3);
    });

    it('keeps every message of concurrent requests to one job, in contiguous revisions', async () => {
      const answers = await Promise.all(Array.from({ length: 40 }, () => t.ingest(status({ job_id: 'out-4' }))));
      expect(answers.every((a) => a.status === 202)).toBe(true);
      const revisions = answers.map((a) => a.body.results[0].revision).sort((a: number, b: number) => a - b);
      expect(revisions).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    });

    it('stores W3C trace context and who ingested it in the event metadata', async () => {
      const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
      await t.ingest(status({ job_id: 'out-5' }), { traceparent, tracestate: 'congo=t61rcWkgMzE' });
      await t.ingest(status({ job_id: 'out-5' }), { traceparent: 'not-a-traceparent' });
      const events = await collect(t.server.store.readStream(jobStreamName('out-5')));
      expect(events[1]!.metadata).toMatchObject({ traceparent, tracestate: 'congo=t61rcWkgMzE', ingested_by: 'worker', source: 'http' });
      expect(events[2]!.metadata).not.toHaveProperty('traceparent');
    });
  });

  describe('bad input gets a problem naming the field and appends nothing', () => {
    async function rejects(body: unknown, expected: { status: number; path?: string; index?: number }, headers = {}) {
      const before = await t.server.store.headPosition();
      const { status: code, body: problem } = await t.ingest(body, headers);
      expect(code).toBe(expected.status);
      expect(problem).toMatchObject({ status: expected.status, type: expect.stringContaining('/problems/') });
      if (expected.path !== undefined) {
        expect(problem.errors).toContainEqual(expect.objectContaining({ path: expected.path, index: expected.index ?? 0 }));
      }
      expect(await t.server.store.headPosition()).toEqual(before);
      return problem;
    }

    it('broken JSON', async () => {
      const problem = await rejects('{"job_id": "x", ', { status: 400 });
      expect(problem.detail).toMatch(/not valid JSON/);
    });
    it('wrong types', () => rejects(status({ job_id: 'bad-1', cycle: 'two' }), { status: 400, path: 'cycle' }));
    it('progress out of range', () => rejects(status({ job_id: 'bad-2', progress: 1.5 }), { status: 400, path: 'progress' }));
    it('unknown state', () => rejects(status({ job_id: 'bad-3', state: 'exploded' }), { status: 400, path: 'state' }));
    it('illegal job id characters', () => rejects(status({ job_id: 'job 42/../x' }), { status: 400, path: 'job_id' }));
    it('missing ts', () => rejects(status({ job_id: 'bad-4', ts: undefined }), { status: 400, path: 'ts' }));
    it('a misspelt field', () => rejects(status({ job_id: 'bad-5', progres: 0.2 }), { status: 400, path: 'progres' }));
    it('details over 16 KiB', () =>
      rejects(status({ job_id: 'bad-6', details: { blob: 'x'.repeat(17 * 1024) } }), { status: 400, path: 'details' }));
    it('a body over 1 MiB', () =>
      rejects({ messages: [status({ job_id: 'bad-7', message: 'x'.repeat(1100 * 1024) })] }, { status: 413 }));
    it('a batch over 500 messages', async () => {
      const problem = await rejects(
        { messages: Array.from({ length: 501 }, () => status({ job_id: 'bad-8' })) },
        { status: 400 },
      );
      expect(problem.errors[0]).toMatchObject({ path: 'messages' });
    });

    it('a lone surrogate in a string, anywhere in the message (it cannot be hashed for the audit chain)', async () => {
      const lone = (message: Record<string, unknown>) => JSON.stringify(message).replace('"LONE"', '"\\ud800"');
      await rejects(lone(status({ job_id: 'bad-10', message: 'LONE' })), { status: 400, path: 'message' });
      await rejects(lone(status({ job_id: 'bad-11', details: { nested: ['ok', 'LONE'] } })), { status: 400, path: 'details.nested.1' });
      await rejects(JSON.stringify(status({ job_id: 'bad-12', details: { LONE: 1 } })).replace('"LONE"', '"\\udc00"'), { status: 400, path: 'details' });
    });

    it('one bad message in a batch: nothing of the batch is appended, the index names it', async () => {
      await rejects(
        { messages: [status({ job_id: 'bad-9' }), status({ job_id: 'bad-9' }), status({ job_id: 'bad-9', progress: -1 })] },
        { status: 400, path: 'progress', index: 2 },
      );
      expect(await streamTypes(t.server.store, 'bad-9')).toEqual([]);
    });

    it('a body over 1 MiB sent chunked, without Content-Length', async () => {
      const token = await t.token('worker', ['publisher']);
      const before = await t.server.store.headPosition();
      const text = JSON.stringify({ messages: [status({ job_id: 'bad-13', message: 'x'.repeat(1100 * 1024) })] });
      const body = new ReadableStream({
        start(controller) {
          for (let at = 0; at < text.length; at += 64 * 1024) controller.enqueue(new TextEncoder().encode(text.slice(at, at + 64 * 1024)));
          controller.close();
        },
      });
      const response = await fetch(`${t.url}/ingest/status`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body,
        duplex: 'half',
      } as RequestInit);
      expect(response.status).toBe(413);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(await t.server.store.headPosition()).toEqual(before);
    });

    it('a body that is not JSON', async () => {
      const token = await t.token('worker', ['publisher']);
      const response = await fetch(`${t.url}/ingest/status`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'text/plain' },
        body: 'hello',
      });
      expect(response.status).toBe(415);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    });
  });

  it('answers a request whose path is spelt differently (served by express) the same', async () => {
    const token = await t.token('worker', ['publisher']);
    const response = await fetch(`${t.url}/ingest/status/`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(status({ job_id: 'slash-1' })),
    });
    expect(response.status).toBe(202);
    expect(await streamTypes(t.server.store, 'slash-1')).toEqual(['JobRegistered', 'StatusReported']);
  });

  it('takes a gzip-encoded body too', async () => {
    const token = await t.token('worker', ['publisher']);
    const response = await fetch(`${t.url}/ingest/status`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: gzipSync(JSON.stringify(status({ job_id: 'gzipped-1' }))),
    });
    expect(response.status).toBe(202);
    expect(await streamTypes(t.server.store, 'gzipped-1')).toEqual(['JobRegistered', 'StatusReported']);
  });

  describe('authorization', () => {
    it('401 with WWW-Authenticate without a token, 403 without the publisher role', async () => {
      const anonymous = await fetch(`${t.url}/ingest/status`, { method: 'POST', body: '{}' });
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer/);
      const token = await t.token('alice');
      const forbidden = await fetch(`${t.url}/ingest/status`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(status({ job_id: 'auth-1' })),
      });
      expect(forbidden.status).toBe(403);
      expect(await streamTypes(t.server.store, 'auth-1')).toEqual([]);
    });
  });
});

describe('POST /ingest/status when the store fails', () => {
  it('answers 503 and appends nothing of the batch', async () => {
    let failing = false;
    const t = await startTestServer();
    const real = t.server.store;
    const original = real.appendToStreams.bind(real);
    real.appendToStreams = (appends) =>
      failing ? Promise.reject(new StoreUnavailableError('disk on fire')) : original(appends);
    try {
      await t.ingest(status({ job_id: 'fail-1' }));
      failing = true;
      const { status: code, body } = await t.ingest({
        messages: [status({ job_id: 'fail-1', user_id: undefined }), status({ job_id: 'fail-2' })],
      });
      expect(code).toBe(503);
      expect(body).toMatchObject({ status: 503, title: 'Service unavailable' });
      failing = false;
      expect(await streamTypes(real, 'fail-1')).toEqual(['JobRegistered', 'StatusReported']);
      expect(await streamTypes(real, 'fail-2')).toEqual([]);
      // The failed decision was not cached: the next attempt appends at the right revision.
      const retry = await t.ingest(status({ job_id: 'fail-1' }));
      expect(retry.body.results[0]).toMatchObject({ outcome: 'appended', revision: 2 });
    } finally {
      await t.close();
    }
  });
});
