import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createServiceBusConsumer } from '../../../src/ingest/serviceBus/index.ts';
import { STAND_IN_SECRET, createServiceBusStandIn } from '../../support/serviceBusStandIn/index.ts';
import { eventually, startTestServer, status } from '../../support/testServer.ts';
import { gatedStore, jobEvents, metricValue, settled, settlementsOf, startServiceBusTestServer } from './support/serviceBusTestServer.ts';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('Service Bus ingest: concurrency, stop and wiring', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    cleanups.length = 0;
  });

  it('runs at most maxConcurrentCalls messages at once and takes no more until one is settled', async () => {
    const s = await startServiceBusTestServer({ consumer: { maxConcurrentCalls: 3 } });
    cleanups.push(() => s.close());
    expect(s.receiver.subscribeCalls).toEqual([expect.objectContaining({ maxConcurrentCalls: 3, autoCompleteMessages: false })]);
    const gate = gatedStore(s.t.server.store);
    gate.close();
    const sent = Array.from({ length: 10 }, (_, i) => s.standIn.send({ body: status({ job_id: `sb-bound-${i}` }) }));
    await eventually(() => gate.waiting === 3, 10_000, 'three appends to wait at the gate');
    // Give a fourth delivery every chance to happen before looking.
    await pause(150);
    expect(gate.waiting).toBe(3);
    expect(s.t.server.serviceBus!.inFlight).toBe(3);
    expect(s.standIn.messages.filter((m) => m.deliveryCount === 0)).toHaveLength(7);
    gate.open();
    for (const seq of sent) expect(await settled(s.standIn, seq)).toMatchObject({ kind: 'complete' });
    expect(gate.maxWaiting).toBe(3);
    expect(s.receiver.maxObservedConcurrentCalls).toBe(3);
  });

  it('on close, lets in-flight messages finish and settle, takes nothing new, and closes the receiver', async () => {
    const s = await startServiceBusTestServer({ consumer: { maxConcurrentCalls: 2 } });
    let closed = false;
    cleanups.push(async () => {
      if (!closed) await s.close();
    });
    const gate = gatedStore(s.t.server.store);
    gate.close();
    const sent = Array.from({ length: 4 }, (_, i) => s.standIn.send({ body: status({ job_id: `sb-drain-${i}` }) }));
    await eventually(() => gate.waiting === 2, 10_000, 'two appends in flight');
    const closing = s.close().then(() => (closed = true));
    await pause(100);
    expect(closed).toBe(false);
    gate.open();
    await closing;
    expect(s.receiver.isClosed).toBe(true);
    expect(sent.map((seq) => settlementsOf(s.standIn, seq).map((r) => r.kind))).toEqual([['complete'], ['complete'], [], []]);
    // The two never delivered wait for the next consumer, untouched.
    expect(s.standIn.pending().map((m) => [m.sequenceNumber, m.deliveryCount])).toEqual([
      [sent[2], 0],
      [sent[3], 0],
    ]);
  });

  it('abandons in-flight messages still running after the grace, never settles them twice, and redelivery finds the late append', async () => {
    const t = await startTestServer();
    cleanups.push(() => t.close());
    const standIn = createServiceBusStandIn();
    const gate = gatedStore(t.server.store);
    gate.close();
    const consumer = (graceMs: number) => {
      const receiver = standIn.createReceiver();
      const c = createServiceBusConsumer({
        connectionString: standIn.connectionString,
        topic: 'status',
        subscription: 'realtime',
        ingest: t.server.ingest,
        logger: t.server.logger,
        metrics: t.server.metrics,
        stopGraceMs: graceMs,
        openReceiver: () => ({ receiver, close: () => receiver.close() }),
      });
      c.start();
      return { c, receiver };
    };
    const first = consumer(200);
    const sent = [0, 1].map((i) => standIn.send({ body: status({ job_id: `sb-grace-${i}` }) }));
    await eventually(() => gate.waiting === 2, 10_000, 'two appends in flight');
    await first.c.stop();
    expect(sent.map((seq) => settlementsOf(standIn, seq).map((r) => [r.kind, r.ok]))).toEqual([[['abandon', true]], [['abandon', true]]]);
    // The hung appends complete after all; their results must not settle anything again.
    gate.open();
    await eventually(async () => (await jobEvents(t.server.store, 'sb-grace-1')).length === 2, 10_000, 'the late appends');
    await eventually(() => first.c.inFlight === 0, 10_000, 'the late results');
    expect(standIn.settlements).toHaveLength(2);

    const second = consumer(10_000);
    cleanups.push(() => second.c.stop());
    for (const seq of sent) expect(await settled(standIn, seq)).toMatchObject({ kind: 'complete', deliveryCount: 2 });
    for (const job of ['sb-grace-0', 'sb-grace-1']) {
      expect((await jobEvents(t.server.store, job)).map((e) => e.type)).toEqual(['JobRegistered', 'StatusReported']);
    }
    expect(await metricValue(t, 'statuscast_servicebus_settlements_total', { settlement: 'abandon', reason: 'stopping' })).toBe(2);
  });

  it('starts no consumer without SERVICEBUS_CONNECTION_STRING', async () => {
    const t = await startTestServer();
    cleanups.push(() => t.close());
    expect(t.server.serviceBus).toBeUndefined();
  });

  it('logs the namespace and settlements but never the key or a message body', async () => {
    let logs = '';
    const logger = pino({ level: 'debug' }, new Writable({ write: (chunk, _enc, done) => ((logs += chunk), done()) }));
    const s = await startServiceBusTestServer({ logger });
    cleanups.push(() => s.close());
    const marker = 'private-progress-text-4711';
    await settled(s.standIn, s.standIn.send({ body: status({ job_id: 'sb-log-1', message: marker }), messageId: 'log-1' }));
    await settled(s.standIn, s.standIn.send({ body: status({ job_id: 'sb-log-2', message: marker, progress: 7 }), messageId: 'log-2' }));
    await settled(s.standIn, s.standIn.send({ raw: Buffer.from(`not json ${marker}`), messageId: 'log-3' }));
    expect(logs).toContain('"namespace":"stand-in.servicebus.example"');
    expect(logs).toContain('Service Bus message completed');
    expect(logs).toContain('"reason":"SchemaValidationFailed"');
    expect(logs).not.toContain(STAND_IN_SECRET);
    expect(logs).not.toContain(marker);
  });

  it('with the real SDK and an unreachable namespace: logs receiver errors without the key, and stops promptly', async () => {
    let logs = '';
    const logger = pino({ level: 'debug' }, new Writable({ write: (chunk, _enc, done) => ((logs += chunk), done()) }));
    const secret = 'real-sdk-secret-key-never-logged';
    // Loopback, nothing listening on the AMQP port: the SDK's connection attempts fail at once.
    const t = await startTestServer({ SERVICEBUS_CONNECTION_STRING: `Endpoint=sb://localhost/;SharedAccessKeyName=listen;SharedAccessKey=${secret}` }, { logger });
    let closed = false;
    cleanups.push(async () => {
      if (!closed) await t.close();
    });
    await eventually(() => logs.includes('Service Bus receiver error'), 15_000, 'a receiver error to be logged');
    expect(await metricValue(t, 'statuscast_servicebus_receiver_errors_total', { source: 'receive' })).toBeGreaterThanOrEqual(1);
    // The SDK's retry cycle would hold close() for ~30 s without the abort signal.
    const stopping = t.close().then(() => (closed = true));
    await eventually(() => closed, 5_000, 'close to finish');
    await stopping;
    expect(logs).not.toContain(secret);
    expect(logs).toContain('Service Bus consumer stopped');
  });
});
