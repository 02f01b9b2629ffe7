import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import * as wsModule from 'ws';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import type { HubConnection } from './hubConnection.ts';
import { checkTransportRequest, type HubServerContext } from './hubServerContext.ts';
import type { HubIdentity } from './hubDefinition.ts';
import { rejectUpgrade, type HttpRejection } from './httpResponses.ts';
import { matchHubRequest } from './hubRequest.ts';
import { authenticateRequest, isRejection } from './requestAuthentication.ts';
import type { TransportChannel } from './transportChannel.ts';

/** Close code of a socket that ended without a close frame: the only "unclean" end. */
const ABNORMAL_CLOSURE = 1006;

/** ws's frame builder and a socket's sender (exported and present, but not declared by @types/ws). */
const Sender = (wsModule as unknown as { Sender?: { frame?(data: Buffer, options: Record<string, unknown>): Buffer[] } }).Sender;
/** Should a later ws lose these undeclared members, every frame simply goes through `ws.send`. */
const canPrebuildFrames = typeof Sender?.frame === 'function';
interface SocketSender {
  /** 0 (DEFAULT) unless the sender is queueing (compression or Blob data, both unused here). */
  readonly _state: number;
  sendFrame(list: readonly Buffer[]): void;
}

/** Payloads up to this size are framed into one Buffer with their header; larger ones are not copied. */
const MERGE_LIMIT = 16 * 1024;

/**
 * One text frame (server frames are unmasked), built once and written to every socket. A
 * live event's frame is small: header and payload go in one Buffer, one `write` per socket.
 * A large catch-up stays two Buffers (a corked pair of writes) so that the payload is never
 * copied, and every socket's queue shares it.
 */
function textFrame(payload: Buffer): readonly Buffer[] {
  const parts = Sender!.frame!(payload, { readOnly: false, mask: false, rsv1: false, opcode: 1, fin: true });
  return parts.length > 1 && payload.length <= MERGE_LIMIT ? [Buffer.concat(parts)] : parts;
}

/**
 * The framed form of the shared payload written last. A fan-out writes the same payload to
 * every socket in a row, so one entry is enough to frame it once per event.
 */
let lastPayload: Buffer | null = null;
let lastFramed: readonly Buffer[] = [];

function framed(payload: Buffer): readonly Buffer[] {
  if (payload !== lastPayload) {
    lastFramed = textFrame(payload);
    lastPayload = payload;
  }
  return lastFramed;
}

class WebSocketChannel implements TransportChannel {
  readonly kind = 'WebSockets' as const;

  constructor(readonly socket: WebSocket) {}

  write(chunk: string, encoded?: Buffer): void {
    const socket = this.socket;
    if (socket.readyState !== WebSocket.OPEN) return;
    const sender = (socket as unknown as { _sender?: SocketSender })._sender;
    // The prebuilt frame bypasses ws's per-send framing; only while ws is not queueing
    // (it never is without compression), so that frames cannot overtake each other.
    if (encoded !== undefined && canPrebuildFrames && sender?._state === 0 && typeof sender.sendFrame === 'function') sender.sendFrame(framed(encoded));
    // A Buffer would go out as a binary message; the JSON hub protocol needs text messages.
    else if (encoded !== undefined) socket.send(encoded, { binary: false });
    else socket.send(chunk);
  }

  get pendingBytes(): number {
    return this.socket.bufferedAmount;
  }

  end(): boolean {
    this.socket.close(1000);
    return false;
  }
}

/**
 * The WebSockets transport: takes `upgrade` requests for the hub path only (other paths are
 * left to their owners), authenticates them, and binds each socket to its connection. Tracks
 * its sockets so that shutdown can wait for their closing handshakes.
 */
export class WebSocketTransport<TUser, TSession> {
  private readonly server: WebSocketServer;
  readonly sockets = new Set<WebSocket>();

  constructor(private readonly context: HubServerContext<TUser, TSession>) {
    this.server = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      perMessageDeflate: false,
      maxPayload: context.limits.maxReceiveBytes,
    });
  }

  /** Returns false (touching nothing) when the upgrade is not for this hub. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const request = matchHubRequest(req, this.context.path);
    if (request === null) return false;
    // Errors on a socket still being authenticated must not crash the process.
    socket.on('error', destroyOnError);
    this.upgrade(req, socket, head, request).catch((error: unknown) => {
      this.context.logger.error({ err: error }, 'websocket upgrade failed');
      rejectUpgrade(socket, { status: 500 });
    });
    return true;
  }

  async close(deadline: number): Promise<void> {
    while (this.sockets.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    for (const socket of this.sockets) socket.terminate();
    this.server.close();
  }

  private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, request: { negotiate: boolean; query: URLSearchParams }): Promise<void> {
    const context = this.context;
    if (request.negotiate || req.method !== 'GET') return rejectUpgrade(socket, { status: 405 });
    if (context.closing) return rejectUpgrade(socket, { status: 503, text: 'The server is shutting down.' });
    const origin = req.headers.origin;
    // Browsers send Origin on same-origin handshakes too; only other origins need allowing
    // (this blocks cross-site WebSocket hijacking without breaking the service's own page).
    if (origin !== undefined && !isSameOrigin(origin, req.headers.host) && !context.allowOrigin(origin)) {
      return rejectUpgrade(socket, { status: 403, text: 'Origin not allowed' });
    }
    const identity = await authenticateRequest(req, request.query, context.authenticate);
    if (isRejection(identity)) return rejectUpgrade(socket, identity);
    const connection = this.resolveConnection(request.query, identity);
    if (isRejection(connection)) return rejectUpgrade(socket, connection);
    this.server.handleUpgrade(req, socket, head, (ws) => this.bind(connection, ws, identity));
  }

  private resolveConnection(query: URLSearchParams, identity: HubIdentity<TUser>): HubConnection<TUser, TSession> | HttpRejection {
    const context = this.context;
    const token = query.get('id');
    // No id: the client skipped negotiation, so the connection is made right here.
    if (token === null || token === '') {
      if (!context.transports.includes('WebSockets')) return { status: 404, text: 'WebSockets transport not supported by this end point type' };
      return context.createConnection(identity, 0, false);
    }
    const connection = context.registry.get(token);
    if (connection === undefined || !connection.isOpen) return { status: 404, text: 'No Connection with that ID' };
    const rejection = checkTransportRequest(context, connection, identity, 'WebSockets');
    if (rejection !== null) return rejection;
    if (connection.channel !== null && !connection.isStateful) return { status: 409 };
    return connection;
  }

  private bind(connection: HubConnection<TUser, TSession>, ws: WebSocket, identity: HubIdentity<TUser>): void {
    this.sockets.add(ws);
    const binding: SocketBinding = { transport: this as WebSocketTransport<unknown, unknown>, connection: connection as HubConnection<unknown, unknown>, channel: null };
    (ws as BoundSocket)[BINDING] = binding;
    // Shared listeners that find their connection on the socket: no closures per connection.
    ws.on('close', onSocketClose);
    ws.on('error', onSocketError);
    // The connection may have ended while the upgrade completed; a second socket may have won the race.
    if (!connection.isOpen || (connection.channel !== null && !connection.isStateful)) {
      ws.close(1000);
      return;
    }
    const channel = new WebSocketChannel(ws);
    binding.channel = channel;
    connection.refreshIdentity(identity);
    const previous = connection.attach(channel, Date.now());
    // Stateful reconnect: the old socket may still look alive; the new one replaces it.
    if (previous instanceof WebSocketChannel) previous.socket.terminate();
    ws.on('message', onSocketMessage);
  }

  /** The socket closed: the transport forgets it, and its connection learns how it ended. */
  socketClosed(ws: WebSocket, binding: SocketBinding, code: number): void {
    this.sockets.delete(ws);
    if (binding.channel !== null) binding.connection.detach(binding.channel, code !== ABNORMAL_CLOSURE, Date.now());
  }

  socketFailed(binding: SocketBinding, error: Error): void {
    this.context.logger.debug({ err: error, connectionId: binding.connection.connectionId }, 'websocket error');
  }
}

const BINDING = Symbol('hubConnection');

/** What a socket's shared listeners need: set on the socket when it is bound. */
interface SocketBinding {
  readonly transport: WebSocketTransport<unknown, unknown>;
  readonly connection: HubConnection<unknown, unknown>;
  /** `null` when the socket lost the race for its connection and is being closed. */
  channel: WebSocketChannel | null;
}

type BoundSocket = WebSocket & { [BINDING]: SocketBinding };

function destroyOnError(this: Duplex): void {
  this.destroy();
}

function onSocketClose(this: WebSocket, code: number): void {
  const binding = (this as BoundSocket)[BINDING];
  binding.transport.socketClosed(this, binding, code);
}

function onSocketError(this: WebSocket, error: Error): void {
  const binding = (this as BoundSocket)[BINDING];
  binding.transport.socketFailed(binding, error);
}

function onSocketMessage(this: WebSocket, data: RawData, isBinary: boolean): void {
  const connection = (this as BoundSocket)[BINDING].connection;
  if (isBinary) connection.fail('Binary messages are not supported by the json protocol.');
  else connection.receive(decode(data), Date.now());
}

function decode(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

function isSameOrigin(origin: string, host: string | undefined): boolean {
  return host !== undefined && URL.canParse(origin) && new URL(origin).host === host;
}
