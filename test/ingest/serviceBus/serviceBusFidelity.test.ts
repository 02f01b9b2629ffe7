import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { jobStreamName } from '../../../src/domain/job/events.ts';
import { StoreUnavailableError } from '../../../src/store/eventStore.ts';
import { createServiceBusStandIn } from '../../support/serviceBusStandIn/index.ts';
import { status } from '../../support/testServer.ts';
import { type ServiceBusTestServer, settlementsOf, startServiceBusTestServer } from './support/serviceBusTestServer.ts';

/** Service Bus behaviours the stand-in now models as `@azure/service-bus` 7.9 reports them. */
describe('Service Bus ingest against the SDK as it behaves', () => {
  const servers: ServiceBusTestServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  function logLines(): { logger: pino.Logger; lines: () => Record<string, unknown>[] } {
    let text = '';
    const logger = pino({ level: 'debug' }, new Writable({ write: (chunk, _enc, done) => ((text += chunk), done()) }));
    return { logger, lines: () => text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>) };
  }

  it('doubles the pause before each abandon from the first delivery on (the SDK counts deliveries from 0)', async () => {
    const { logger, lines } = logLines();
    const s = await startServiceBusTestServer({ logger, consumer: { retryDelayMs: 4, maxRetryDelayMs: 1_000 } });
    servers.push(s);
    const store = s.t.server.store;
    const read = store.readStream.bind(store);
    store.readStream = (stream, options) => {
      if (stream === jobStreamName('sb-backoff-1')) throw new TypeError('a bug');
      return read(stream, options);
    };
    const seq = s.standIn.send({ body: status({ job_id: 'sb-backoff-1' }) });
    await expect.poll(() => s.standIn.deadLettered().length, { timeout: 10_000 }).toBe(1);
    const pauses = lines()
      .filter((line) => line['msg'] === 'transient failure; abandoning the message after a pause')
      .map((line) => [line['delivery_count'], line['delay_ms']]);
    expect(pauses.slice(0, 5)).toEqual([
      [0, 4],
      [1, 8],
      [2, 16],
      [3, 32],
      [4, 64],
    ]);
    expect(settlementsOf(s.standIn, seq)).toHaveLength(10);
  });
});

/**
 * A store outage longer than the broker's patience. Service Bus dead-letters a message at its
 * `maxDeliveryCount`-th delivery (10 by default), and every abandon is a delivery; with pauses
 * of 1 s doubling to 30 s that is about 3 minutes. Real timings, on a clock scaled 1:1000
 * (every duration the consumer and the test use is divided by 1000).
 */
describe('Service Bus ingest: a ten-minute store outage (clock scaled 1:1000)', () => {
  const SCALE = 1 / 1000;
  const servers: ServiceBusTestServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  it('dead-letters nothing, holds no more messages than it processes at once, and completes everything once the store is back', async () => {
    const standIn = createServiceBusStandIn({ maxDeliveryCount: 10 });
    const s = await startServiceBusTestServer({
      standIn,
      consumer: { maxConcurrentCalls: 2, retryDelayMs: 1_000 * SCALE, maxRetryDelayMs: 30_000 * SCALE },
    });
    servers.push(s);
    const store = s.t.server.store;
    let down = true;
    const { appendToStreams, readStream } = { appendToStreams: store.appendToStreams.bind(store), readStream: store.readStream.bind(store) };
    store.appendToStreams = (appends) => (down ? Promise.reject(new StoreUnavailableError('store down')) : appendToStreams(appends));
    store.readStream = (stream, options) => {
      if (down) throw new StoreUnavailableError('store down');
      return readStream(stream, options);
    };
    const sent = Array.from({ length: 5 }, (_, i) => standIn.send({ body: status({ job_id: `sb-outage-${i}` }), messageId: `outage-${i}` }));

    await new Promise((resolve) => setTimeout(resolve, 10 * 60_000 * SCALE));
    // Receiving paused: only the messages being processed were delivered, and none twice.
    expect(standIn.messages.filter((m) => m.deliveryCount > 0).length).toBeLessThanOrEqual(2);
    expect(standIn.deadLettered()).toEqual([]);
    down = false;

    for (const seq of sent) {
      await expect.poll(() => settlementsOf(standIn, seq).at(-1)?.kind, { timeout: 10_000 }).toBe('complete');
    }
    expect(standIn.deadLettered()).toEqual([]);
    expect(standIn.settlements.filter((r) => r.kind === 'abandon')).toEqual([]);
    expect(standIn.messages.map((m) => m.deliveryCount)).toEqual([1, 1, 1, 1, 1]);
  });
});

describe('Service Bus ingest on a session-enabled subscription', () => {
  it('fails with one clear line instead of retrying the receive link for ever', async () => {
    const { logger, lines } = (() => {
      let text = '';
      const log = pino({ level: 'debug' }, new Writable({ write: (chunk, _enc, done) => ((text += chunk), done()) }));
      return { logger: log, lines: () => text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>) };
    })();
    const standIn = createServiceBusStandIn({ requiresSession: true });
    const s = await startServiceBusTestServer({ standIn, logger });
    try {
      const failure = await Promise.race([
        s.t.server.serviceBus!.failed,
        new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 5_000)),
      ]);
      expect(failure?.message).toMatch(/subscription status\/realtime requires sessions/);
      const refusals = s.receiver.linkRefusals;
      await new Promise((resolve) => setTimeout(resolve, 100));
      // It stopped asking.
      expect(s.receiver.linkRefusals).toBe(refusals);
      const errors = lines().filter((line) => (line['level'] as number) >= 50);
      expect(errors).toHaveLength(1);
      expect(errors[0]!['msg']).toMatch(/requires sessions/);
    } finally {
      await s.close();
    }
  });
});
