import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { jobStreamName } from '../../../src/domain/job/events.ts';
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
