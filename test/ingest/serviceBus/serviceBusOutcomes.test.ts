import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobStreamName } from '../../../src/domain/job/events.ts';
import { StoreUnavailableError } from '../../../src/store/eventStore.ts';
import { status } from '../../support/testServer.ts';
import { nestedObjectJson } from '../../support/nestedJson.ts';
import {
  type ServiceBusTestServer,
  jobEvents,
  metricValue,
  settled,
  settlementsOf,
  startServiceBusTestServer,
} from './support/serviceBusTestServer.ts';

const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

describe('Service Bus ingest: what becomes of each message', () => {
  let s: ServiceBusTestServer;
  beforeAll(async () => {
    s = await startServiceBusTestServer();
  });
  afterAll(async () => {
    await s.close();
  });

  const types = async (jobId: string) => (await jobEvents(s.t.server.store, jobId)).map((e) => e.type);

  describe('complete', () => {
    it('completes only once the status is durable, with source, subscription and trace in the event metadata', async () => {
      // Look into the store at the moment the consumer completes the message.
      const inStoreAtComplete: string[][] = [];
      const complete = s.receiver.completeMessage.bind(s.receiver);
      s.receiver.completeMessage = async (message) => {
        inStoreAtComplete.push(await types('sb-complete-1'));
        return complete(message);
      };
      try {
        const body = status({ job_id: 'sb-complete-1' });
        const seq = s.standIn.send({ body, messageId: 'sb-id-1', applicationProperties: { traceparent: TRACEPARENT, tracestate: 'vendor=1' } });
        expect(await settled(s.standIn, seq)).toMatchObject({ kind: 'complete', ok: true, deliveryCount: 1 });
        expect(inStoreAtComplete).toEqual([['JobRegistered', 'StatusReported']]);
        const [registered, reported] = await jobEvents(s.t.server.store, 'sb-complete-1');
        expect(reported!.metadata).toEqual({
          message_id: body['message_id'],
          traceparent: TRACEPARENT,
          tracestate: 'vendor=1',
          ingested_by: 'realtime',
          source: 'servicebus',
          // The audit chain's hashes (docs/audit.md).
          prev_hash: registered!.metadata['hash'],
          hash: expect.stringMatching(/^[0-9a-f]{64}$/),
        });
        expect(registered!.metadata).toMatchObject({ source: 'servicebus' });
      } finally {
        s.receiver.completeMessage = complete;
      }
      expect(await metricValue(s.t, 'statuscast_ingest_messages_total', { outcome: 'appended', source: 'servicebus' })).toBeGreaterThanOrEqual(1);
      expect(await metricValue(s.t, 'statuscast_servicebus_settlements_total', { settlement: 'complete', reason: 'accepted' })).toBeGreaterThanOrEqual(1);
    });

    it('uses messageId as the idempotency key of a body without message_id: sent twice, appended once, both completed', async () => {
      const body = status({ job_id: 'sb-msgid-1', message_id: undefined });
      const first = s.standIn.send({ body, messageId: 'worker-msg-77' });
      const second = s.standIn.send({ body, messageId: 'worker-msg-77' });
      expect(await settled(s.standIn, first)).toMatchObject({ kind: 'complete' });
      expect(await settled(s.standIn, second)).toMatchObject({ kind: 'complete' });
      const events = await jobEvents(s.t.server.store, 'sb-msgid-1');
      expect(events.map((e) => [e.type, e.metadata['message_id']])).toEqual([
        ['JobRegistered', 'worker-msg-77'],
        ['StatusReported', 'worker-msg-77'],
      ]);
      expect(await metricValue(s.t, 'statuscast_ingest_messages_total', { outcome: 'duplicate', source: 'servicebus' })).toBeGreaterThanOrEqual(1);
    });

    it('appends every entry of a { messages } body; entries without message_id get <messageId>:<index>', async () => {
      const seq = s.standIn.send({
        messageId: 'batch-9',
        body: {
          messages: [
            status({ job_id: 'sb-batch-1', message_id: 'explicit-1' }),
            status({ job_id: 'sb-batch-1', message_id: undefined }),
            status({ job_id: 'sb-batch-2', message_id: null }),
          ],
        },
      });
      expect(await settled(s.standIn, seq)).toMatchObject({ kind: 'complete' });
      const reported = async (jobId: string) =>
        (await jobEvents(s.t.server.store, jobId)).filter((e) => e.type === 'StatusReported').map((e) => e.data['message_id']);
      expect(await reported('sb-batch-1')).toEqual(['explicit-1', 'batch-9:1']);
      expect(await reported('sb-batch-2')).toEqual(['batch-9:2']);
    });

    it('takes the trace from Diagnostic-Id when traceparent is absent, and ignores an invalid one', async () => {
      const viaDiagnostic = s.standIn.send({ body: status({ job_id: 'sb-trace-1' }), applicationProperties: { 'Diagnostic-Id': TRACEPARENT } });
      const invalid = s.standIn.send({ body: status({ job_id: 'sb-trace-2' }), applicationProperties: { traceparent: 'not-a-trace' } });
      await settled(s.standIn, viaDiagnostic);
      await settled(s.standIn, invalid);
      expect((await jobEvents(s.t.server.store, 'sb-trace-1'))[1]!.metadata['traceparent']).toBe(TRACEPARENT);
      expect((await jobEvents(s.t.server.store, 'sb-trace-2'))[1]!.metadata).not.toHaveProperty('traceparent');
    });

    it('accepts a JSON text body and a body sent as an AMQP value', async () => {
      const text = s.standIn.send({ raw: JSON.stringify(status({ job_id: 'sb-raw-1' })) });
      const value = s.standIn.send({ raw: status({ job_id: 'sb-raw-2' }) });
      const bom = s.standIn.send({ raw: Buffer.from(`\uFEFF${JSON.stringify(status({ job_id: 'sb-raw-3' }))}`) });
      for (const seq of [text, value, bom]) expect(await settled(s.standIn, seq)).toMatchObject({ kind: 'complete' });
      for (const job of ['sb-raw-1', 'sb-raw-2', 'sb-raw-3']) expect(await types(job)).toEqual(['JobRegistered', 'StatusReported']);
    });
  });

  describe('dead-letter', () => {
    it('dead-letters a body that fails the schema, naming the field, and appends nothing of the batch', async () => {
      const single = s.standIn.send({ body: status({ job_id: 'sb-invalid-1', progress: 2 }) });
      const batch = s.standIn.send({ body: { messages: [status({ job_id: 'sb-invalid-2' }), status({ job_id: 'sb-invalid-2', stage: '' })] } });
      const tooMany = s.standIn.send({ body: { messages: Array.from({ length: 501 }, () => status({ job_id: 'sb-invalid-3' })) } });
      expect(await settled(s.standIn, single)).toMatchObject({
        kind: 'deadLetter',
        deadLetterReason: 'SchemaValidationFailed',
        deadLetterErrorDescription: expect.stringMatching(/nothing was appended: progress: /),
      });
      expect(await settled(s.standIn, batch)).toMatchObject({
        deadLetterReason: 'SchemaValidationFailed',
        deadLetterErrorDescription: expect.stringContaining('[1] stage: '),
      });
      expect(await settled(s.standIn, tooMany)).toMatchObject({
        deadLetterReason: 'SchemaValidationFailed',
        deadLetterErrorDescription: expect.stringContaining('at most 500'),
      });
      for (const job of ['sb-invalid-1', 'sb-invalid-2', 'sb-invalid-3']) expect(await types(job)).toEqual([]);
      expect(s.standIn.deadLettered().map((m) => m.sequenceNumber)).toEqual(expect.arrayContaining([single, batch, tooMany]));
    });

    it('dead-letters details nested 5,000 levels deep as a schema failure instead of abandoning it for redelivery', async () => {
      const body = JSON.stringify(status({ job_id: 'sb-deep-1' })).replace(/}$/, `,"details":${nestedObjectJson(5_000)}}`);
      const seq = s.standIn.send({ raw: Buffer.from(body) });
      expect(await settled(s.standIn, seq)).toMatchObject({
        kind: 'deadLetter',
        deadLetterReason: 'SchemaValidationFailed',
        deadLetterErrorDescription: expect.stringContaining('details: must not be nested deeper than 32 levels'),
      });
      expect(await types('sb-deep-1')).toEqual([]);
    });

    it.each([
      ['text that is not JSON', Buffer.from('job_id=42&state=running'), /^the body is not JSON: /],
      ['bytes that are not UTF-8', Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), /^the body is not UTF-8 text$/],
      ['an empty body', Buffer.alloc(0), /^the body is empty$/],
      ['no body at all', undefined, /^the message has no body$/],
    ])('dead-letters %s as InvalidJson', async (_name, raw, description) => {
      const seq = s.standIn.send({ raw });
      expect(await settled(s.standIn, seq)).toMatchObject({
        kind: 'deadLetter',
        deadLetterReason: 'InvalidJson',
        deadLetterErrorDescription: expect.stringMatching(description),
      });
    });

    it('dead-letters a body over 1 MiB as BodyTooLarge without parsing it', async () => {
      const seq = s.standIn.send({ raw: Buffer.alloc(1024 * 1024 + 1, 0x20) });
      expect(await settled(s.standIn, seq)).toMatchObject({ deadLetterReason: 'BodyTooLarge' });
    });

    it('dead-letters a status the domain rejects for good (another owner, a finished job), with the reason', async () => {
      await settled(s.standIn, s.standIn.send({ body: status({ job_id: 'sb-rejected-1', user_id: 'alice', state: 'succeeded' }) }));
      const otherOwner = s.standIn.send({ body: status({ job_id: 'sb-rejected-1', user_id: 'mallory' }) });
      const afterEnd = s.standIn.send({ body: status({ job_id: 'sb-rejected-1', user_id: 'alice' }) });
      expect(await settled(s.standIn, otherOwner)).toMatchObject({
        kind: 'deadLetter',
        deadLetterReason: 'StatusRejected',
        deadLetterErrorDescription: "the status message was not appended: sb-rejected-1 rejected: user_id does not match the job's owner",
      });
      expect(await settled(s.standIn, afterEnd)).toMatchObject({
        deadLetterReason: 'StatusRejected',
        deadLetterErrorDescription: expect.stringContaining('job already succeeded'),
      });
      expect(await types('sb-rejected-1')).toEqual(['JobRegistered', 'StatusReported']);
    });

    it('dead-letters a status dropped for a job nobody registered (no user_id) as StatusDropped', async () => {
      const seq = s.standIn.send({ body: status({ job_id: 'sb-dropped-1', user_id: undefined }) });
      expect(await settled(s.standIn, seq)).toMatchObject({
        deadLetterReason: 'StatusDropped',
        deadLetterErrorDescription: 'the status message was not appended: sb-dropped-1 dropped: user_id missing for unknown job',
      });
      expect(await types('sb-dropped-1')).toEqual([]);
    });

    it('dead-letters a batch with a refused entry, keeps the accepted ones, and a resubmission appends nothing twice', async () => {
      await settled(s.standIn, s.standIn.send({ body: status({ job_id: 'sb-mixed-1', user_id: 'alice' }) }));
      const body = {
        messages: [status({ job_id: 'sb-mixed-1', message_id: undefined }), status({ job_id: 'sb-mixed-1', user_id: 'mallory', message_id: undefined })],
      };
      const first = s.standIn.send({ body, messageId: 'mixed-batch-1' });
      expect(await settled(s.standIn, first)).toMatchObject({
        deadLetterReason: 'StatusRejected',
        deadLetterErrorDescription:
          "1 of 2 status messages were not appended (the other 1 are durable; resubmitting with the same messageId appends nothing twice): [1] sb-mixed-1 rejected: user_id does not match the job's owner",
      });
      expect(await types('sb-mixed-1')).toEqual(['JobRegistered', 'StatusReported', 'StatusReported']);
      // An operator resubmits the dead-lettered message as it was.
      const resubmitted = s.standIn.send({ body, messageId: 'mixed-batch-1' });
      expect(await settled(s.standIn, resubmitted)).toMatchObject({ deadLetterReason: 'StatusRejected' });
      expect(await types('sb-mixed-1')).toEqual(['JobRegistered', 'StatusReported', 'StatusReported']);
    });
  });
});

describe('Service Bus ingest: transient failures', () => {
  it('holds the message while the store is unavailable, retries it in place, then appends once and completes on its first delivery', async () => {
    const s = await startServiceBusTestServer();
    try {
      const store = s.t.server.store;
      const append = store.appendToStreams.bind(store);
      let failures = 3;
      store.appendToStreams = (appends) =>
        failures-- > 0 ? Promise.reject(new StoreUnavailableError('disk on fire')) : append(appends);
      const seq = s.standIn.send({ body: status({ job_id: 'sb-transient-1' }) });
      expect(await settled(s.standIn, seq)).toMatchObject({ kind: 'complete', deliveryCount: 1 });
      expect(settlementsOf(s.standIn, seq).map((r) => [r.kind, r.deliveryCount])).toEqual([['complete', 1]]);
      expect((await jobEvents(store, 'sb-transient-1')).map((e) => e.type)).toEqual(['JobRegistered', 'StatusReported']);
      expect(await metricValue(s.t, 'statuscast_servicebus_settlements_total', { settlement: 'abandon', reason: 'store_unavailable' })).toBe(0);
    } finally {
      await s.close();
    }
  });

  it('abandons a held message when the store stays away longer than maxHoldMs, and at once on stop', async () => {
    const s = await startServiceBusTestServer({ consumer: { maxHoldMs: 30 } });
    try {
      const store = s.t.server.store;
      const append = store.appendToStreams.bind(store);
      let down = true;
      store.appendToStreams = (appends) => (down ? Promise.reject(new StoreUnavailableError('disk on fire')) : append(appends));
      const seq = s.standIn.send({ body: status({ job_id: 'sb-held-1' }) });
      await expect.poll(() => settlementsOf(s.standIn, seq).length, { timeout: 10_000 }).toBeGreaterThanOrEqual(1);
      expect(settlementsOf(s.standIn, seq)[0]).toMatchObject({ kind: 'abandon', deliveryCount: 1 });
      down = false;
      expect(await settled(s.standIn, seq)).toMatchObject({ kind: 'complete' });
    } finally {
      await s.close();
    }
  });

  it('abandons on an unexpected error too, leaving poison messages to the broker\'s maxDeliveryCount', async () => {
    const s = await startServiceBusTestServer();
    try {
      const store = s.t.server.store;
      const read = store.readStream.bind(store);
      store.readStream = (stream, options) => {
        if (stream === jobStreamName('sb-poison-1')) throw new TypeError('a bug');
        return read(stream, options);
      };
      const seq = s.standIn.send({ body: status({ job_id: 'sb-poison-1' }) });
      await expect.poll(() => s.standIn.deadLettered().map((m) => [m.sequenceNumber, m.deadLetterReason]), { timeout: 10_000 }).toEqual([
        [seq, 'MaxDeliveryCountExceeded'],
      ]);
      expect(settlementsOf(s.standIn, seq).every((r) => r.kind === 'abandon')).toBe(true);
      expect(await metricValue(s.t, 'statuscast_servicebus_settlements_total', { settlement: 'abandon', reason: 'unexpected_error' })).toBe(10);
    } finally {
      await s.close();
    }
  });
});
