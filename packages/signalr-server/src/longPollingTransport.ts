import type { ServerResponse } from 'node:http';
import type { HubConnection } from './hubConnection.ts';
import type { HubIdentity } from './hubDefinition.ts';
import { respond } from './httpResponses.ts';
import { checkTransportRequest, type HubServerContext } from './hubServerContext.ts';
import type { HubServerLimits } from './hubServerOptions.ts';
import type { TransportChannel } from './transportChannel.ts';

const NO_CACHE = { 'Cache-Control': 'no-cache, no-store', Pragma: 'no-cache', Expires: 'Thu, 01 Jan 1970 00:00:00 GMT' };

/** The part of a connection the long-polling queue talks back to. */
interface PollOwner {
  abort(reason: string): void;
  releaseToken(): void;
}

/**
 * The long-polling queue: messages wait here between polls and a held poll takes all of
 * them at once. Answers 200 with data, 200 empty on the poll timeout, and 204 once the
 * connection has ended and nothing is left to deliver (the client then stops cleanly).
 */
export class LongPollingChannel implements TransportChannel {
  readonly kind = 'LongPolling' as const;
  private queue: string[] = [];
  private queuedBytes = 0;
  private held: { readonly res: ServerResponse; readonly since: number } | null = null;
  private idleSince: number;
  private ended = false;
  private flushScheduled = false;

  constructor(
    private readonly owner: PollOwner,
    private readonly limits: HubServerLimits,
    now: number,
  ) {
    this.idleSince = now;
  }

  write(chunk: string): void {
    this.queue.push(chunk);
    this.queuedBytes += chunk.length;
    // Answer on the next turn so that messages sent together leave in one response.
    if (this.held !== null && !this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => {
        this.flushScheduled = false;
        this.flush();
      });
    }
  }

  get pendingBytes(): number {
    return this.queuedBytes;
  }

  end(): boolean {
    this.ended = true;
    this.flush();
    return true; // the token stays until a poll got its 204, a DELETE, or the sweep
  }

  /** A poll request (not the first one, which only activates the connection). */
  poll(res: ServerResponse, now: number): void {
    // A newer poll replaces one still in flight; the older one ends with 204.
    if (this.held !== null) this.answer(this.held.res, 204);
    this.held = { res, since: now };
    res.on('close', () => {
      if (this.held?.res !== res) return;
      this.held = null;
      this.idleSince = Date.now();
    });
    if (this.queue.length > 0 || this.ended) this.flush();
  }

  tick(now: number): void {
    if (this.held !== null) {
      if (now - this.held.since >= this.limits.pollTimeoutMs) this.answer(this.take()!, 200);
    } else if (!this.ended && now - this.idleSince >= this.limits.disconnectTimeoutMs) {
      this.owner.abort('long-polling client stopped polling');
    }
  }

  private flush(): void {
    if (this.held === null) return;
    if (this.queue.length > 0) {
      const body = this.queue.join('');
      this.queue = [];
      this.queuedBytes = 0;
      this.answer(this.take()!, 200, body);
    } else if (this.ended) {
      this.answer(this.take()!, 204);
      this.owner.releaseToken();
    }
  }

  private take(): ServerResponse | null {
    const res = this.held?.res ?? null;
    this.held = null;
    this.idleSince = Date.now();
    return res;
  }

  private answer(res: ServerResponse, status: 200 | 204, body = ''): void {
    if (res.writableEnded) return;
    res.writeHead(status, { ...NO_CACHE, 'Content-Type': 'text/plain; charset=utf-8', ...(status === 200 ? { 'Content-Length': Buffer.byteLength(body) } : {}) });
    res.end(body);
  }
}

/**
 * A long-polling GET: the first one activates the connection and returns at once (the
 * client waits for it before its handshake); later ones are held by the queue.
 */
export function handlePoll<TUser, TSession>(
  context: HubServerContext<TUser, TSession>,
  connection: HubConnection<TUser, TSession>,
  identity: HubIdentity<TUser>,
  res: ServerResponse,
): void {
  const rejection = checkTransportRequest(context, connection, identity, 'LongPolling');
  if (rejection !== null) return respond(res, rejection);
  const now = Date.now();
  const channel = connection.channel;
  if (channel instanceof LongPollingChannel) {
    if (connection.isOpen) connection.refreshIdentity(identity);
    channel.poll(res, now);
    return;
  }
  if (!connection.isOpen) return respond(res, { status: 404, text: 'No Connection with that ID' });
  connection.refreshIdentity(identity);
  connection.attach(new LongPollingChannel(connection, context.limits, now), now);
  res.writeHead(200, { ...NO_CACHE, 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': 0 });
  res.end();
}
