import type { HubLogger } from './hubLogger.ts';
import type { CloseOptions, HubConnectionContext, HubDefinition, HubIdentity, OutgoingFrame, TransportKind } from './hubDefinition.ts';
import { HANDSHAKE_CANCELED, HANDSHAKE_RESPONSE, handshakeErrorFrame, parseHandshake, type Handshake } from './handshake.ts';
import { ackFrame, closeFrame, isTrackable, MessageType, parseClientMessage, PING_ENCODED, PING_FRAME, ProtocolError, sequenceFrame } from './hubMessages.ts';
import type { HubServerLimits } from './hubServerOptions.ts';
import type { HubServerMetrics } from './hubServerMetrics.ts';
import { InvocationDispatcher, type MethodTable } from './invocationDispatcher.ts';
import { SendAllowance } from './sendAllowance.ts';
import { StatefulReconnectBuffer } from './statefulReconnectBuffer.ts';
import { MessageTooLargeError, RecordReader } from './textMessageFormat.ts';
import type { TransportChannel } from './transportChannel.ts';

export interface HubConnectionInit<TUser, TSession> {
  readonly connectionId: string;
  /** The secret `id=` of every transport request. */
  readonly token: string;
  readonly identity: HubIdentity<TUser>;
  /** Negotiate answered `useStatefulReconnect: true`. */
  readonly statefulNegotiated: boolean;
  readonly hub: HubDefinition<TUser, TSession>;
  readonly methods: MethodTable<TSession>;
  readonly limits: HubServerLimits;
  readonly logger: HubLogger;
  readonly metrics: HubServerMetrics;
  readonly now: number;
  /** Called once, when the token may be forgotten (the registry drops the connection). */
  readonly release: (connection: HubConnection<TUser, TSession>) => void;
}

/**
 * One logical SignalR connection, independent of its transport: handshake, inbound parsing,
 * invocation dispatch, outbound sends with the send-buffer bound, stateful reconnect, and
 * every per-connection timeout (driven by the registry's heartbeat through `tick`).
 */
export class HubConnection<TUser, TSession> implements HubConnectionContext<TUser> {
  readonly connectionId: string;
  readonly token: string;
  private currentIdentity: HubIdentity<TUser>;
  private kind: TransportKind | null = null;
  private current: TransportChannel | null = null;
  private handshake: Handshake | null = null;
  private session: { readonly value: TSession } | null = null;
  private buffer: StatefulReconnectBuffer | null = null;
  private disposedAt: number | null = null;
  private released = false;
  private readonly createdAt: number;
  private channelChangedAt: number;
  private lastSentAt: number;
  /**
   * Something was written since the last heartbeat. A send sets this instead of reading the
   * clock (once per delivery, at thousands of connections per event); the heartbeat turns it
   * into `lastSentAt`, which only the keep-alive reads.
   */
  private sentSinceBeat = false;
  private lastReceivedAt: number;
  private readonly reader: RecordReader;
  private readonly sendAllowance: SendAllowance;
  private readonly dispatcher: InvocationDispatcher<TSession>;
  private childLogger: HubLogger | null = null;

  constructor(private readonly init: HubConnectionInit<TUser, TSession>) {
    this.connectionId = init.connectionId;
    this.token = init.token;
    this.currentIdentity = init.identity;
    this.createdAt = this.channelChangedAt = this.lastSentAt = this.lastReceivedAt = init.now;
    this.reader = new RecordReader(init.limits.maxMessageBytes);
    this.sendAllowance = new SendAllowance(init.limits.maxSendBufferBytes);
    this.dispatcher = new InvocationDispatcher(init.methods, init.limits.maxInvocationsPerSecond, this, init.metrics, init.now);
  }

  /** The connection's logger, made on first use: an idle connection never logs, and a child logger per connection costs memory at 20,000 connections. */
  get logger(): HubLogger {
    return (this.childLogger ??= this.init.logger.child({ connectionId: this.connectionId }));
  }

  get identity(): HubIdentity<TUser> {
    return this.currentIdentity;
  }

  /** `null` until the first transport request arrived (never the case inside hub callbacks). */
  get transport(): TransportKind {
    return this.kind as TransportKind;
  }

  get selectedTransport(): TransportKind | null {
    return this.kind;
  }

  get channel(): TransportChannel | null {
    return this.current;
  }

  get isOpen(): boolean {
    return this.disposedAt === null;
  }

  /** Whether a dropped WebSocket may be replaced by a new one (stateful reconnect is on). */
  get isStateful(): boolean {
    return this.buffer !== null;
  }

  /** A later request of the same user brought a fresh token: its expiry now applies. */
  refreshIdentity(identity: HubIdentity<TUser>): void {
    this.currentIdentity = identity;
  }

  /** Connects a receiving side. On a stateful reconnect, Sequence and the replay go first. */
  attach(channel: TransportChannel, now: number): TransportChannel | null {
    if (this.kind === null) {
      this.kind = channel.kind;
      this.init.metrics.connectionOpened(channel.kind);
    }
    const previous = this.current;
    this.current = channel;
    this.channelChangedAt = this.lastReceivedAt = this.lastSentAt = now;
    if (this.buffer !== null && this.handshake !== null) {
      this.buffer.socketReplaced();
      const replay = this.buffer.replay();
      channel.write(sequenceFrame(replay.sequenceId) + replay.frames.join(''));
      this.logger.debug({ sequenceId: replay.sequenceId, frames: replay.frames.length }, 'stateful reconnect');
    }
    return previous;
  }

  /** The receiving side ended. Only an unclean drop of a stateful connection keeps it alive. */
  detach(channel: TransportChannel, clean: boolean, now: number): void {
    if (channel !== this.current || !this.isOpen) return;
    if (!clean && this.buffer !== null) {
      this.current = null;
      this.channelChangedAt = now;
      this.logger.debug('socket lost; waiting for a stateful reconnect');
      return;
    }
    this.abort(clean ? 'transport closed' : 'transport lost');
  }

  /** Data from the client: a WebSocket message or a POST body. Never throws. */
  receive(chunk: string, now: number): void {
    if (!this.isOpen) return;
    this.lastReceivedAt = now;
    try {
      for (const text of this.reader.read(chunk)) {
        if (!this.isOpen) return;
        if (this.handshake === null) this.acceptHandshake(text);
        else this.handleMessage(text, now);
      }
    } catch (error) {
      if (error instanceof MessageTooLargeError || error instanceof ProtocolError) {
        this.fail(error.message);
      } else {
        this.logger.error({ err: error }, 'failed to process client data');
        this.close({ error: 'An internal server error occurred.' });
      }
    }
  }

  send(frame: OutgoingFrame): void {
    if (!this.isOpen || this.handshake === null) return;
    if (this.buffer !== null && !this.buffer.record(frame.text, frame.messageCount)) {
      this.dropSlowConsumer('stateful reconnect buffer full');
      return;
    }
    const channel = this.current;
    if (channel === null) return; // stateful and between sockets: the replay delivers it
    channel.write(frame.text, frame.encoded);
    this.sentSinceBeat = true;
    const targets = frame.targets;
    for (let i = 0; i < targets.length; i++) this.init.metrics.messageSent(channel.kind, targets[i]!);
    if (!this.sendAllowance.check(channel.pendingBytes, frame.text.length)) this.dropSlowConsumer('send buffer full');
  }

  close(options: CloseOptions = {}): void {
    if (!this.isOpen) return;
    if (this.handshake !== null) this.writeRaw(closeFrame(options));
    this.dispose(options.error ?? 'closed by server');
  }

  /** The client broke the protocol: the error goes back as a handshake error or a Close. */
  fail(error: string): void {
    if (!this.isOpen) return;
    this.logger.info({ error }, 'protocol error');
    if (this.handshake === null) {
      this.writeRaw(handshakeErrorFrame(error));
      this.dispose(error);
    } else {
      this.close({ error });
    }
  }

  /** Ends the connection without a Close message. */
  abort(reason: string): void {
    this.dispose(reason);
  }

  /** Lets the registry forget the token; idempotent. */
  releaseToken(): void {
    if (this.released) return;
    this.released = true;
    this.init.release(this);
  }

  /** Heartbeat: timeouts, token expiry, keep-alive pings and stateful-reconnect Acks. */
  tick(now: number): void {
    const limits = this.init.limits;
    if (this.sentSinceBeat) {
      this.sentSinceBeat = false;
      this.lastSentAt = now;
    }
    if (this.disposedAt !== null) {
      if (now - this.disposedAt >= limits.disconnectTimeoutMs) this.releaseToken();
      return;
    }
    if (this.kind === null) {
      if (now - this.createdAt >= limits.disconnectTimeoutMs) this.abort('no transport arrived');
      return;
    }
    const expiresAt = this.currentIdentity.expiresAt;
    if (expiresAt !== null && now >= expiresAt.getTime()) {
      this.close({ error: 'Token expired.', allowReconnect: true });
      return;
    }
    const channel = this.current;
    if (channel === null) {
      if (now - this.channelChangedAt >= limits.disconnectTimeoutMs) this.abort('stateful reconnect did not arrive');
      return;
    }
    if (this.handshake === null) {
      if (now - this.channelChangedAt >= limits.handshakeTimeoutMs) this.fail(HANDSHAKE_CANCELED);
      return;
    }
    channel.tick?.(now);
    if (!this.isOpen) return;
    // Long polling has inherent keep-alive: no pings, and liveness comes from the polls.
    if (channel.kind !== 'LongPolling') {
      if (now - this.lastReceivedAt >= limits.clientTimeoutMs) {
        this.close({ error: 'Client timeout elapsed without receiving a message from the client.', allowReconnect: true });
        return;
      }
      if (now - this.lastSentAt >= limits.keepAliveIntervalMs) this.writeRaw(PING_FRAME, PING_ENCODED);
    }
    const ack = this.buffer?.takeAck() ?? null;
    if (ack !== null) this.writeRaw(ackFrame(ack));
  }

  private acceptHandshake(text: string): void {
    const handshake = parseHandshake(text);
    if ('error' in handshake) {
      this.fail(handshake.error);
      return;
    }
    this.handshake = handshake;
    if (handshake.version >= 2 && this.init.statefulNegotiated && this.kind === 'WebSockets') {
      this.buffer = new StatefulReconnectBuffer(this.init.limits.statefulReconnectBufferBytes);
    }
    this.writeRaw(HANDSHAKE_RESPONSE);
    try {
      this.session = { value: this.init.hub.connected(this) };
    } catch (error) {
      this.logger.error({ err: error }, 'hub rejected the connection');
      this.close({ error: 'The hub failed to accept the connection.' });
    }
  }

  private handleMessage(text: string, now: number): void {
    const message = parseClientMessage(text);
    const buffer = this.buffer;
    if (buffer !== null) {
      // After a reconnect everything before the client's Sequence is stale.
      if (buffer.isAwaitingSequence && message.type !== MessageType.Sequence) return;
      if (isTrackable(message.type) && !buffer.acceptTrackable()) return;
    }
    switch (message.type) {
      case MessageType.Invocation:
      case MessageType.StreamInvocation:
        if (this.session !== null) this.dispatcher.dispatch(message, this.session.value, now);
        return;
      case MessageType.Ack:
        buffer?.ack(message.sequenceId);
        return;
      case MessageType.Sequence:
        if (buffer !== null && !buffer.sequence(message.sequenceId)) {
          this.close({ error: "Sequence ID greater than amount of messages we've received." });
        }
        return;
      case MessageType.Close:
        this.abort('closed by client');
        return;
      default:
        // Ping, and messages that only matter for features this server never starts:
        // upload streams (StreamItem), client results (Completion), server streams (Cancel).
        return;
    }
  }

  private dropSlowConsumer(reason: string): void {
    this.init.metrics.sendBufferDrop(this.kind ?? 'WebSockets');
    this.logger.warn({ reason }, 'closing a connection that cannot keep up');
    this.close({ error: 'The connection could not keep up with its messages.', allowReconnect: true });
  }

  private writeRaw(text: string, encoded?: Buffer): void {
    if (this.current === null) return;
    this.current.write(text, encoded);
    this.sentSinceBeat = true;
  }

  private dispose(reason: string): void {
    if (!this.isOpen) return;
    this.disposedAt = Date.now();
    this.dispatcher.stop();
    const draining = this.current?.end() ?? false;
    if (this.kind !== null) this.init.metrics.connectionClosed(this.kind);
    if (this.session !== null) {
      try {
        this.init.hub.disconnected(this.session.value);
      } catch (error) {
        this.logger.error({ err: error }, 'hub disconnected callback failed');
      }
    }
    this.logger.debug({ reason, transport: this.kind }, 'connection closed');
    if (!draining) this.releaseToken();
  }
}
