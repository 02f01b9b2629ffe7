import { WebSocket } from 'ws';

export const RS = '\u001e';

/** What a hub sent, parsed message by message. */
export type Received = Record<string, unknown>;

/** Negotiates with fetch, as a client library would, and returns the JSON answer. */
export async function rawNegotiate(hubUrl: string, token: string, query = 'negotiateVersion=1'): Promise<Record<string, any>> {
  const response = await fetch(`${hubUrl}/negotiate?${query}`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
  if (response.status !== 200) throw new Error(`negotiate answered ${response.status}`);
  return (await response.json()) as Record<string, any>;
}

/**
 * A hand-driven WebSocket client for protocol tests: sends exactly the bytes it is told to
 * and records every frame and message the server sends.
 */
export class RawWebSocketClient {
  readonly frames: string[] = [];
  readonly messages: Received[] = [];
  closeCode: number | null = null;
  private readonly waiters = new Set<() => void>();
  readonly opened: Promise<void>;

  constructor(readonly socket: WebSocket) {
    this.opened = new Promise((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('unexpected-response', (_req, res) => reject(new Error(`upgrade answered ${res.statusCode}`)));
      socket.once('error', reject);
    });
    socket.on('message', (data) => {
      const text = data.toString();
      this.frames.push(text);
      for (const part of text.split(RS).slice(0, -1)) this.messages.push(JSON.parse(part) as Received);
      this.notify();
    });
    socket.on('close', (code) => {
      this.closeCode = code;
      this.notify();
    });
  }

  static async connect(wsUrl: string, token: string | null, headers: Record<string, string> = {}): Promise<RawWebSocketClient> {
    const socket = new WebSocket(wsUrl, { headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers } });
    const client = new RawWebSocketClient(socket);
    await client.opened;
    return client;
  }

  /** Opens a connection and completes the JSON handshake (version 1 unless told otherwise). */
  static async handshaken(hubUrl: string, token: string, version = 1, negotiateQuery?: string): Promise<RawWebSocketClient> {
    const negotiated = await rawNegotiate(hubUrl, token, negotiateQuery);
    const client = await RawWebSocketClient.connect(`${hubUrl.replace(/^http/, 'ws')}?id=${negotiated['connectionToken']}`, token);
    client.send(`{"protocol":"json","version":${version}}${RS}`);
    await client.until((c) => c.messages.length >= 1);
    return client;
  }

  send(data: string | Buffer): void {
    this.socket.send(data);
  }

  /** The hub messages of one `type`. */
  ofType(type: number): Received[] {
    return this.messages.filter((m) => m['type'] === type);
  }

  until(predicate: (client: this) => boolean, timeoutMs = 10_000): Promise<void> {
    if (predicate(this)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!predicate(this)) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`timed out; frames: ${JSON.stringify(this.frames).slice(0, 2000)} close: ${this.closeCode}`));
      }, timeoutMs);
      this.waiters.add(check);
    });
  }

  /** Resolves with the close code once the server closed the socket. */
  async closed(): Promise<number> {
    await this.until((c) => c.closeCode !== null);
    return this.closeCode!;
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}
