import { Agent, type ClientRequest, request } from 'node:http';
import { httpJson, httpRequest } from './http.ts';
import { deferred, type Deferred, TrackedClient, withTimeout } from './loadClient.ts';
import { MiniWebSocket } from './miniWebSocket.ts';
import { forEachHubMessage, type HubMessageSink } from './scan.ts';
import { tracked, type Tracked, type Tracker } from './tracker.ts';

const HUB = '/hubs/status';
const HANDSHAKE = '{"protocol":"json","version":1}\u001e';
const PING = '{"type":6}\u001e';
const STEP_TIMEOUT_MS = 60_000;

let bulkChecked = false;

/**
 * The JSON hub protocol over any transport: handshake, invocations with their Completions,
 * and the statuscast targets fed to the tracker. The first live message of every connection
 * and the first non-empty bulk of the worker are parsed in full and compared with the scan.
 */
class HubProtocol implements HubMessageSink {
  private handshake: Deferred<void> | null = null;
  private readonly completions = new Map<string, Deferred<any>>();
  private nextId = 0;
  closeMessage: Record<string, any> | null = null;

  constructor(
    private readonly state: Tracked,
    private readonly tracker: Tracker,
  ) {}

  live(seq: number, sentAt: number, buf: Buffer, start: number, end: number): void {
    if (!this.state.checked) {
      this.state.checked = true;
      const message = JSON.parse(buf.toString('utf8', start, end)) as { arguments: [{ event: { revision: number; details: Record<string, unknown> } }] };
      const event = message.arguments[0].event;
      const expectedSentAt = event.details['bench_sent_at'];
      if (event.revision !== seq || (typeof expectedSentAt === 'number' ? expectedSentAt !== sentAt : !Number.isNaN(sentAt))) {
        this.tracker.mismatches++;
        this.tracker.error(`scan mismatch: ${seq}/${sentAt} vs ${event.revision}/${String(expectedSentAt)}`);
      }
    }
    this.tracker.live(this.state, seq, sentAt);
  }

  bulk(from: number, to: number, count: number, buf: Buffer, start: number, end: number): void {
    if (!bulkChecked && count > 0) {
      bulkChecked = true;
      const message = JSON.parse(buf.toString('utf8', start, end)) as { arguments: [{ events: { revision: number }[]; meta: { from_revision: number; to_revision: number } }] };
      const { events, meta } = message.arguments[0];
      const contiguous = events.every((e, i) => e.revision === meta.from_revision + i);
      if (!contiguous || events.length !== count || meta.from_revision !== from || meta.to_revision !== to) {
        this.tracker.mismatches++;
        this.tracker.error(`bulk scan mismatch: ${from}-${to}/${count}`);
      }
    }
    this.tracker.bulk(this.state, from, to, count);
  }

  other(message: Record<string, any>): void {
    if (message['type'] === undefined) {
      if (message['error']) this.handshake?.reject(new Error(`handshake: ${message['error']}`));
      else this.handshake?.resolve();
    } else if (message['type'] === 3) {
      const waiter = this.completions.get(String(message['invocationId']));
      this.completions.delete(String(message['invocationId']));
      if (message['error']) waiter?.reject(new Error(String(message['error'])));
      else waiter?.resolve(message['result']);
    } else if (message['type'] === 7) {
      this.closeMessage = message;
      const error = new Error(`server closed: ${String(message['error'] ?? '')}`);
      this.handshake?.reject(error);
      for (const waiter of this.completions.values()) waiter.reject(error);
      this.completions.clear();
    }
  }

  async doHandshake(send: (text: string) => unknown): Promise<void> {
    this.handshake = deferred();
    await send(HANDSHAKE);
    await withTimeout(this.handshake.promise, STEP_TIMEOUT_MS, 'handshake');
  }

  async invoke(send: (text: string) => unknown, target: string, args: unknown[]): Promise<any> {
    const id = String(this.nextId++);
    const waiter = deferred<any>();
    this.completions.set(id, waiter);
    await send(`${JSON.stringify({ type: 1, invocationId: id, target, arguments: args })}\u001e`);
    return withTimeout(waiter.promise, STEP_TIMEOUT_MS, target);
  }
}

abstract class SignalRClient extends TrackedClient {
  protected protocol!: HubProtocol;
  protected connectionToken = '';

  protected get token(): string {
    return this.ticket.token!;
  }

  protected async negotiate(): Promise<void> {
    const answer = await httpJson<{ connectionToken: string }>(this.ctx.target, {
      method: 'POST',
      path: `${HUB}/negotiate?negotiateVersion=1`,
      headers: { authorization: `Bearer ${this.token}` },
      localAddress: this.ctx.localAddress,
    });
    this.connectionToken = answer.connectionToken;
    this.protocol = new HubProtocol(this.state, this.ctx.tracker);
  }

  protected get streamPath(): string {
    return `${HUB}?id=${encodeURIComponent(this.connectionToken)}&access_token=${encodeURIComponent(this.token)}`;
  }

  /** POST a chunk as the SSE and long-polling transports send (Authorization header). */
  protected post(text: string): Promise<void> {
    return httpRequest(this.ctx.target, {
      method: 'POST',
      path: `${HUB}?id=${encodeURIComponent(this.connectionToken)}`,
      headers: { authorization: `Bearer ${this.token}`, 'content-type': 'text/plain;charset=UTF-8' },
      body: text,
      localAddress: this.ctx.localAddress,
    }).then((answer) => {
      if (answer.status !== 200) throw new Error(`send answered ${answer.status}`);
    });
  }

  protected async subscribe(send: (text: string) => unknown): Promise<void> {
    await this.protocol.doHandshake(send);
    await this.protocol.invoke(send, 'Subscribe', [this.ticket.key, this.state.last]);
  }
}

/** SignalR over WebSockets, as the official client does it (negotiate, upgrade, handshake). */
export class SignalRWebSocketClient extends SignalRClient {
  private ws: MiniWebSocket | null = null;

  async open(): Promise<void> {
    await this.negotiate();
    const protocol = this.protocol;
    this.ws = await MiniWebSocket.open(
      { ...this.ctx.target, path: this.streamPath, localAddress: this.ctx.localAddress },
      {
        onMessage: (payload) => forEachHubMessage(payload, 0, payload.length, protocol),
        onClose: () => this.lost(),
      },
    );
    const ws = this.ws;
    await this.subscribe((text) => ws.send(text));
  }

  override ping(): void {
    this.ws?.send(PING);
  }

  protected cut(): void {
    this.ws?.destroy();
  }

  protected override async leave(): Promise<void> {
    this.ws?.send('{"type":7}\u001e');
    this.ws?.close(1000);
  }
}

/** Splits an event stream into events (blank-line separated) and hands each line range to `line`. */
export class EventStreamReader {
  private pending: Buffer | null = null;

  constructor(
    private readonly separator: Buffer,
    private readonly onEvent: (buf: Buffer, start: number, end: number) => void,
  ) {}

  push(chunk: Buffer): void {
    const data = this.pending === null ? chunk : Buffer.concat([this.pending, chunk]);
    this.pending = null;
    let start = 0;
    for (;;) {
      const end = data.indexOf(this.separator, start);
      if (end < 0) break;
      this.onEvent(data, start, end);
      start = end + this.separator.length;
    }
    if (start < data.length) this.pending = Buffer.from(data.subarray(start));
  }
}

const CRLF = Buffer.from('\r\n');
const DATA = Buffer.from('data: ');

/** SignalR over Server-Sent Events: an event stream to receive, POSTs to send. */
export class SignalRServerSentEventsClient extends SignalRClient {
  private req: ClientRequest | null = null;

  async open(): Promise<void> {
    await this.negotiate();
    const protocol = this.protocol;
    const reader = new EventStreamReader(Buffer.from('\r\n\r\n'), (buf, start, end) => {
      // Lines of one event: comments (":") and one "data: " line holding whole hub messages.
      let s = start;
      while (s < end) {
        let e = buf.indexOf(CRLF, s);
        if (e < 0 || e > end) e = end;
        if (buf.compare(DATA, 0, DATA.length, s, Math.min(s + DATA.length, e)) === 0) forEachHubMessage(buf, s + DATA.length, e, protocol);
        s = e + 2;
      }
    });
    const opened = deferred<void>();
    const req = request({
      ...this.ctx.target,
      path: this.streamPath,
      headers: { accept: 'text/event-stream' },
      agent: false,
      localAddress: this.ctx.localAddress,
    }, (res) => {
      if (res.statusCode !== 200) {
        opened.reject(new Error(`SSE answered ${res.statusCode}`));
        res.resume();
        return;
      }
      res.on('data', (chunk: Buffer) => {
        opened.resolve();
        reader.push(chunk);
      });
      res.on('close', () => this.lost());
      res.on('error', () => this.lost());
    });
    req.on('error', (error) => {
      opened.reject(error);
      this.lost();
    });
    req.end();
    this.req = req;
    await withTimeout(opened.promise, STEP_TIMEOUT_MS, 'SSE open');
    await this.subscribe((text) => this.post(text));
  }

  override ping(): void {
    this.post(PING).catch(() => undefined);
  }

  protected cut(): void {
    this.req?.destroy();
  }
}

/** SignalR over long polling: a held GET per connection (own keep-alive socket), POSTs to send. */
export class SignalRLongPollingClient extends SignalRClient {
  private pollAgent: Agent | null = null;
  private polling = false;

  async open(): Promise<void> {
    await this.negotiate();
    const agent = (this.pollAgent = new Agent({ keepAlive: true, maxSockets: 1 }));
    const path = () => `${HUB}?id=${encodeURIComponent(this.connectionToken)}&_=${Date.now()}`;
    const headers = { authorization: `Bearer ${this.token}` };
    const first = await httpRequest(this.ctx.target, { method: 'GET', path: path(), headers, agent, localAddress: this.ctx.localAddress });
    if (first.status !== 200) throw new Error(`first poll answered ${first.status}`);
    const protocol = this.protocol;
    this.polling = true;
    void (async () => {
      while (this.polling) {
        try {
          const answer = await httpRequest(this.ctx.target, { method: 'GET', path: path(), headers, agent, localAddress: this.ctx.localAddress, timeoutMs: 150_000 });
          if (answer.status === 204) break;
          if (answer.status !== 200) throw new Error(`poll answered ${answer.status}`);
          if (answer.body.length > 0) forEachHubMessage(answer.body, 0, answer.body.length, protocol);
        } catch {
          break;
        }
      }
      this.polling = false;
      this.lost();
    })();
    await this.subscribe((text) => this.post(text));
  }

  // No ping: long polling keeps itself alive with its polls.

  protected cut(): void {
    this.polling = false;
    this.pollAgent?.destroy();
  }

  protected override async leave(): Promise<void> {
    this.polling = false;
    await httpRequest(this.ctx.target, {
      method: 'DELETE',
      path: `${HUB}?id=${encodeURIComponent(this.connectionToken)}`,
      headers: { authorization: `Bearer ${this.token}` },
      localAddress: this.ctx.localAddress,
    }).catch(() => undefined);
    this.pollAgent?.destroy();
  }
}
