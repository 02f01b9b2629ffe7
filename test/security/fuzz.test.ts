import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseStatusBody } from '../../src/ingest/statusMessageSchema.ts';
import { encodePosition } from '../../src/store/position.ts';
import { startTestServer, status, type TestServer } from '../support/testServer.ts';
import { RS, RawWebSocketClient } from '../../packages/signalr-server/test/support/rawClient.ts';

/**
 * Property-based fuzzing of every parser an outsider can reach: the ingest schema, the hub's
 * frames (record separators, handshake, invocations and their arguments) and SSE resume
 * parameters. Whatever comes in: no 5xx, no crash of the process, nothing half-written, and
 * the server still serves everyone afterwards. Run counts are kept modest for CI; raise
 * FUZZ_RUNS locally for a longer hunt.
 */
const RUNS = Number(process.env['FUZZ_RUNS'] ?? 1);
const runs = (n: number) => ({ numRuns: n * RUNS });
/** Each over-the-wire property gets a minute per multiple of the run counts. */
const TIMEOUT = 60_000 * RUNS;

const KNOWN_FIELDS = ['message_id', 'job_id', 'user_id', 'stage', 'state', 'message', 'artifact', 'cycle', 'progress', 'details', 'ts', 'meta'];

/** A status message whose fields are each either valid or anything at all; sometimes with extra or missing fields. */
const messageLike = fc
  .record(
    Object.fromEntries(KNOWN_FIELDS.map((field) => [field, fc.oneof(fc.constant('__valid__'), fc.jsonValue(), fc.string())])),
    { requiredKeys: [] },
  )
  .chain((fields) =>
    fc.tuple(fc.constant(fields), fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue(), { maxKeys: 2 })).map(([f, extra]) => {
      const valid = status({ job_id: `fuzz-${Math.floor(Math.random() * 5)}` });
      const message: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(f)) message[key] = value === '__valid__' ? valid[key] : value;
      return { ...extra, ...message };
    }),
  );

const ingestBody = fc.oneof(
  messageLike,
  fc.array(messageLike, { maxLength: 4 }).map((messages) => ({ messages })),
  fc.jsonValue(),
  fc.anything(),
);

describe('fuzzing: ingest schema', () => {
  it('parseStatusBody never throws, and every refusal names a field', () => {
    fc.assert(
      fc.property(fc.oneof(ingestBody, fc.anything({ withBigInt: true, withMap: true, withSet: true, withTypedArray: true })), (body) => {
        const parsed = parseStatusBody(body);
        if (!parsed.ok) {
          expect(parsed.errors.length).toBeGreaterThan(0);
          for (const error of parsed.errors) expect(typeof error.path).toBe('string');
        }
      }),
      runs(2_000),
    );
  });
});

describe('fuzzing over the wire', () => {
  let t: TestServer;
  let alice: string;
  beforeAll(async () => {
    t = await startTestServer();
    await t.ingest({ messages: [status({ job_id: 'fuzz-known', user_id: 'alice' }), status({ job_id: 'fuzz-known', user_id: 'alice' })] });
    alice = await t.token('alice');
  });
  afterAll(async () => {
    await t?.close();
  });

  const healthy = async () => expect((await fetch(`${t.url}/healthz`)).status).toBe(200);

  it('POST /ingest/status: any body answers 202, 400, 413 or 415, and a refused batch appends nothing', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(ingestBody.map((b) => JSON.stringify(b) ?? 'null'), fc.string(), fc.constant('{"a":'.repeat(3000))), async (text) => {
        const before = await t.server.store.headPosition();
        const { status: code, body } = await t.ingest(text);
        expect([202, 400, 413, 415]).toContain(code);
        if (code !== 202) {
          expect(body).toMatchObject({ status: code, title: expect.any(String), detail: expect.any(String) });
          const after = await t.server.store.headPosition();
          expect(after && encodePosition(after)).toBe(before && encodePosition(before));
        }
      }),
      runs(300),
    );
    await healthy();
  }, TIMEOUT);

  it('SSE resume parameters: any Last-Event-ID or ?after= answers 200 or 400, never more', async () => {
    const value = fc.oneof(fc.string(), fc.nat().map(String), fc.bigInt({ min: -1n, max: 1n << 70n }).map(String), fc.constantFrom('', ' ', '1-2', '0', '-0', '1e3', '0x10'));
    await fc.assert(
      fc.asyncProperty(value, fc.constantFrom('/jobs/fuzz-known/events', '/events'), fc.boolean(), async (resume, path, asHeader) => {
        const controller = new AbortController();
        const headers: Record<string, string> = { authorization: `Bearer ${alice}`, accept: 'text/event-stream' };
        let url = `${t.url}${path}`;
        // Header values cannot carry every character; those go in the query.
        if (asHeader && /^[\x20-\x7e]*$/.test(resume)) headers['last-event-id'] = resume;
        else url += `?after=${encodeURIComponent(resume)}`;
        const response = await fetch(url, { headers, signal: controller.signal });
        controller.abort();
        expect([200, 400]).toContain(response.status);
      }),
      runs(300),
    );
    await healthy();
    await expect.poll(() => t.server.liveFeed.subscriberCount, { timeout: 5_000 }).toBe(0);
  }, TIMEOUT);

  it('hub frames: any text before or after the handshake ends in an answer or a Close, and the hub keeps serving', async () => {
    const hub = `${t.url}/hubs/status`;
    const frame = fc.oneof(
      fc.string({ unit: 'binary' }),
      fc.jsonValue().map((v) => `${JSON.stringify(v)}${RS}`),
      fc.record({ type: fc.integer({ min: -1, max: 9 }), invocationId: fc.oneof(fc.string(), fc.integer()), target: fc.string(), arguments: fc.jsonValue() }, { requiredKeys: [] }).map((m) => `${JSON.stringify(m)}${RS}`),
      fc.array(fc.string({ maxLength: 5 })).map((parts) => parts.join(RS)),
    );
    await fc.assert(
      fc.asyncProperty(fc.boolean(), fc.array(frame, { minLength: 1, maxLength: 4 }), async (handshakeFirst, frames) => {
        const client = await RawWebSocketClient.connect(
          `${hub.replace(/^http/, 'ws')}?id=${(await (await fetch(`${hub}/negotiate?negotiateVersion=1`, { method: 'POST', headers: { authorization: `Bearer ${alice}` } })).json() as { connectionToken: string }).connectionToken}`,
          alice,
        );
        try {
          if (handshakeFirst) {
            client.send(`{"protocol":"json","version":1}${RS}`);
            await client.until((c) => c.messages.length >= 1);
          }
          for (const text of frames) if (client.closeCode === null) client.send(text);
          client.send(`${JSON.stringify({ type: 6 })}${RS}`);
          await new Promise((resolve) => setTimeout(resolve, 20));
          for (const completion of client.messages.filter((m) => m['type'] === 3)) {
            expect(String(completion['error'] ?? '')).not.toMatch(/unexpected error/);
          }
        } finally {
          client.socket.terminate();
        }
      }),
      runs(150),
    );
    await healthy();
    await expect.poll(() => t.server.signalr.connectionCount, { timeout: 20_000 }).toBe(0);
  }, TIMEOUT);

  it('hub method arguments: any arguments get a result or a clear error Completion, never an internal error', async () => {
    const client = await RawWebSocketClient.handshaken(`${t.url}/hubs/status`, alice);
    try {
      let id = 0;
      await fc.assert(
        fc.asyncProperty(fc.constantFrom('Subscribe', 'Unsubscribe', 'SubscribeFeed', 'subscribe', 'Nope'), fc.array(fc.jsonValue(), { maxLength: 3 }), async (target, args) => {
          const invocationId = String(++id);
          client.send(`${JSON.stringify({ type: 1, invocationId, target, arguments: args })}${RS}`);
          await client.until((c) => c.ofType(3).some((m) => m['invocationId'] === invocationId) || c.closeCode !== null);
          expect(client.closeCode).toBeNull();
          const completion = client.ofType(3).find((m) => m['invocationId'] === invocationId)!;
          expect(String(completion['error'] ?? '')).not.toMatch(/unexpected error/);
          // Stay under the per-connection invocation rate.
          await new Promise((resolve) => setTimeout(resolve, 12));
        }),
        runs(200),
      );
    } finally {
      client.socket.terminate();
    }
    await healthy();
  }, TIMEOUT);
});
