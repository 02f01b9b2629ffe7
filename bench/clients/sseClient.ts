import { type ClientRequest, request } from 'node:http';
import { deferred, TrackedClient, withTimeout } from './loadClient.ts';
import { countOf, KEYS, needle, numberAfter } from './scan.ts';
import { EventStreamReader } from './signalrClients.ts';

// The field's optional space after the colon: better-sse writes none, others write one.
const TIMELINE_EVENT = [needle('event:timeline.event\n'), needle('event: timeline.event\n')];
const TIMELINE_BULK = [needle('event:timeline.bulk\n'), needle('event: timeline.bulk\n')];
const ID = needle('id:');
const DATA = needle('data:');

function has(buf: Buffer, keys: readonly Buffer[], start: number, end: number): boolean {
  for (const key of keys) {
    const at = buf.indexOf(key, start);
    if (at >= 0 && at < end) return true;
  }
  return false;
}

/** Start of the value of the `data:` line in [start, end). */
function dataStart(buf: Buffer, start: number): number {
  let at = buf.indexOf(DATA, start) + DATA.length;
  if (buf[at] === 0x20) at++;
  return at;
}

let bulkChecked = false;

/**
 * The plain SSE transport (`GET /jobs/{id}/events`), resuming with `Last-Event-ID` as a
 * browser's EventSource does. Events are read from the bytes: the id line is the revision.
 */
export class PlainSseClient extends TrackedClient {
  private req: ClientRequest | null = null;

  async open(): Promise<void> {
    const { tracker } = this.ctx;
    const state = this.state;
    const caughtUp = deferred<void>();
    const reader = new EventStreamReader(needle('\n\n'), (buf, start, end) => {
      if (has(buf, TIMELINE_EVENT, start, end)) {
        const seq = numberAfter(buf, ID, start, end);
        const sentAt = numberAfter(buf, KEYS.sentAt, start, end);
        if (!state.checked) {
          state.checked = true;
          const data = JSON.parse(buf.toString('utf8', dataStart(buf, start), end)) as { event: { revision: number; details: Record<string, unknown> } };
          if (data.event.revision !== seq || data.event.details['bench_sent_at'] !== sentAt) {
            tracker.mismatches++;
            tracker.error(`sse scan mismatch: ${seq}/${sentAt}`);
          }
        }
        tracker.live(state, seq, sentAt);
      } else if (has(buf, TIMELINE_BULK, start, end)) {
        const at = dataStart(buf, start);
        const from = numberAfter(buf, KEYS.fromRevision, at, end);
        const to = numberAfter(buf, KEYS.toRevision, at, end);
        const count = countOf(buf, KEYS.revision, at, end);
        if (!bulkChecked && count > 0) {
          bulkChecked = true;
          const data = JSON.parse(buf.toString('utf8', at, end)) as { events: { revision: number }[] };
          if (data.events.length !== count || !data.events.every((e, i) => e.revision === from + i)) {
            tracker.mismatches++;
            tracker.error(`sse bulk scan mismatch: ${from}-${to}/${count}`);
          }
        }
        tracker.bulk(state, from, to, count);
        caughtUp.resolve();
      }
    });
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    let path = `/jobs/${encodeURIComponent(this.ticket.key)}/events?access_token=${encodeURIComponent(this.ticket.token!)}`;
    if (state.last > 0) headers['last-event-id'] = String(state.last);
    else path += '&after=0';
    const req = request({ ...this.ctx.target, path, headers, agent: false, localAddress: this.ctx.localAddress }, (res) => {
      if (res.statusCode !== 200) {
        caughtUp.reject(new Error(`SSE answered ${res.statusCode}`));
        res.resume();
        return;
      }
      res.on('data', (chunk: Buffer) => reader.push(chunk));
      res.on('close', () => this.lost());
      res.on('error', () => undefined);
    });
    req.on('error', (error) => {
      caughtUp.reject(error);
      this.lost();
    });
    req.end();
    this.req = req;
    await withTimeout(caughtUp.promise, 60_000, 'SSE catch-up');
  }

  // No ping: the server sends comment heartbeats; an SSE client sends nothing.

  protected cut(): void {
    this.req?.destroy();
  }
}
