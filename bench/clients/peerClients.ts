import { deferred, type Deferred, TrackedClient, withTimeout } from './loadClient.ts';
import { MiniWebSocket } from './miniWebSocket.ts';
import { forEachHubMessage, KEYS, needle, numberAfter, startsWith } from './scan.ts';

/** The raw `ws` peer: the same frames as statuscast's hub, after a `hello` with the room's sequence. */
export class WsPeerClient extends TrackedClient {
  private ws: MiniWebSocket | null = null;

  async open(): Promise<void> {
    const { tracker } = this.ctx;
    const state = this.state;
    const hello = deferred<void>();
    const sink = {
      live: (seq: number, sentAt: number) => tracker.live(state, seq, sentAt),
      bulk: () => undefined,
      other: (message: Record<string, any>) => {
        if (message['target'] === 'hello') {
          state.last = Number(message['arguments'][0]);
          hello.resolve();
        }
      },
    };
    this.ws = await MiniWebSocket.open(
      { ...this.ctx.target, path: `/ws?room=${encodeURIComponent(this.ticket.key)}`, localAddress: this.ctx.localAddress },
      {
        onMessage: (payload) => forEachHubMessage(payload, 0, payload.length, sink),
        onClose: () => this.lost(),
      },
    );
    await withTimeout(hello.promise, 60_000, 'ws hello');
  }

  protected cut(): void {
    this.ws?.destroy();
  }

  protected override async leave(): Promise<void> {
    this.ws?.close(1000);
  }
}

const STATUS_EVENT = needle('42["status",');
const HELLO_EVENT = needle('42["hello",');

/**
 * Socket.IO 4 over a raw WebSocket (Engine.IO v4): open packet, namespace connect, pings
 * answered, `status` events read from the bytes. With recovery it keeps the session id and the
 * last offset and resumes with them, as socket.io-client does after a lost connection.
 */
export class SocketIoPeerClient extends TrackedClient {
  private ws: MiniWebSocket | null = null;
  private pid: string | null = null;
  private offset: string | null = null;

  open(): Promise<void> {
    return this.connect(false);
  }

  private async connect(resuming: boolean): Promise<void> {
    const { tracker } = this.ctx;
    const state = this.state;
    const recovery = this.ctx.recovery === true;
    const ready: Deferred<void> = deferred();
    const ws = await MiniWebSocket.open(
      {
        ...this.ctx.target,
        path: `/socket.io/?EIO=4&transport=websocket&room=${encodeURIComponent(this.ticket.key)}`,
        localAddress: this.ctx.localAddress,
      },
      {
        onMessage: (buf, socket) => {
          const type = buf[0];
          if (type === 0x34 /* 4: message */) {
            if (startsWith(buf, 0, STATUS_EVENT)) {
              const seq = numberAfter(buf, KEYS.revision, 0, buf.length);
              const sentAt = numberAfter(buf, KEYS.sentAt, 0, buf.length);
              if (!state.checked) {
                state.checked = true;
                const args = JSON.parse(buf.toString('utf8', 2)) as [string, { event: { revision: number; details: Record<string, unknown> } }];
                if (args[1].event.revision !== seq || args[1].event.details['bench_sent_at'] !== sentAt) {
                  tracker.mismatches++;
                  tracker.error(`socket.io scan mismatch ${seq}/${sentAt}`);
                }
              }
              if (recovery) {
                const quote = buf.lastIndexOf(0x22, buf.length - 3);
                this.offset = buf.toString('latin1', quote + 1, buf.length - 2);
              }
              tracker.live(state, seq, sentAt);
            } else if (startsWith(buf, 0, HELLO_EVENT)) {
              const args = JSON.parse(buf.toString('utf8', 2)) as [string, number, string?];
              state.last = args[1];
              if (recovery && typeof args[2] === 'string') this.offset = args[2];
              ready.resolve();
            } else if (buf[1] === 0x30 /* 40: connected */) {
              const answer = JSON.parse(buf.toString('utf8', 2)) as { pid?: string };
              if (answer.pid) this.pid = answer.pid;
              if (resuming) ready.resolve();
            }
          } else if (type === 0x30 /* 0: open */) {
            const auth = resuming && this.pid && this.offset ? JSON.stringify({ pid: this.pid, offset: this.offset }) : '';
            socket.send(`40${auth}`);
          } else if (type === 0x32 /* 2: ping */) {
            socket.send('3');
          }
        },
        onClose: () => this.lost(),
      },
    );
    this.ws = ws;
    await withTimeout(ready.promise, 60_000, 'socket.io connect');
  }

  protected cut(): void {
    this.ws?.destroy();
  }

  protected override reconnect(): Promise<void> {
    return this.connect(true);
  }

  protected override async leave(): Promise<void> {
    this.ws?.send('41');
    this.ws?.close(1000);
  }
}
