import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HubConnection } from './hubConnection.ts';
import type { HubIdentity } from './hubDefinition.ts';
import { respond, type HttpRejection } from './httpResponses.ts';
import { checkTransportRequest, type HubServerContext } from './hubServerContext.ts';
import type { TransportChannel } from './transportChannel.ts';

let lastChunk: string | undefined;
let lastFrame: Buffer = Buffer.alloc(0);

/**
 * One event per chunk: the client parses each event's data as whole messages. JSON never
 * holds a raw line break, but a multi-line payload needs one data line each. A message
 * sent to many connections arrives as the same string: it is framed and encoded once
 * (the last frame is kept), not once per connection.
 */
function eventFrame(chunk: string): Buffer {
  if (chunk !== lastChunk) {
    const data = chunk.includes('\n') ? chunk.split(/\r?\n/).join('\r\ndata: ') : chunk;
    lastFrame = Buffer.from(`data: ${data}\r\n\r\n`, 'utf8');
    lastChunk = chunk;
  }
  return lastFrame;
}

class ServerSentEventsChannel implements TransportChannel {
  readonly kind = 'ServerSentEvents' as const;

  constructor(
    private readonly res: ServerResponse,
    private readonly abandonAfterMs: number,
  ) {}

  write(chunk: string): void {
    if (this.res.writableEnded) return;
    this.res.write(eventFrame(chunk));
  }

  get pendingBytes(): number {
    return this.res.writableLength;
  }

  end(): boolean {
    this.res.end();
    // A client that stopped reading would keep the socket (and its buffer) forever.
    if (this.res.writableLength > 0) {
      const timer = setTimeout(() => this.res.destroy(), this.abandonAfterMs);
      this.res.once('close', () => clearTimeout(timer));
    }
    return false;
  }
}

/**
 * The receiving half of the Server-Sent Events transport (the client sends with POST).
 * The stream lives exactly as long as the connection: there is no reconnect on SSE.
 */
export function openServerSentEvents<TUser, TSession>(
  context: HubServerContext<TUser, TSession>,
  connection: HubConnection<TUser, TSession>,
  identity: HubIdentity<TUser>,
  req: IncomingMessage,
  res: ServerResponse,
): void {
  const rejection: HttpRejection | null = !connection.isOpen
    ? { status: 404, text: 'No Connection with that ID' }
    : checkTransportRequest(context, connection, identity, 'ServerSentEvents') ??
      (connection.channel !== null ? { status: 409 } : null);
  if (rejection !== null) {
    respond(res, rejection);
    return;
  }
  // Close-delimited rather than chunked: the stream only ends with its connection, and each
  // message is then one socket write instead of a corked chunk header, data and trailer.
  res.useChunkedEncodingByDefault = false;
  res.writeHead(200, {
    'Content-Type': 'text/event-stream',
    'Cache-Control': 'no-cache, no-store',
    Pragma: 'no-cache',
    'Content-Encoding': 'identity',
    'X-Accel-Buffering': 'no',
  });
  req.socket.setNoDelay(true);
  // EventSource fires `open` (and the client sends its handshake) only once bytes arrive.
  res.write(':\r\n');
  const channel = new ServerSentEventsChannel(res, context.limits.shutdownTimeoutMs);
  connection.refreshIdentity(identity);
  connection.attach(channel, Date.now());
  res.on('close', () => connection.detach(channel, true, Date.now()));
}
