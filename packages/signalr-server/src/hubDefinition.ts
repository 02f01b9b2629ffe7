/** Transport names exactly as the negotiate response spells them (case-sensitive). */
export type TransportKind = 'WebSockets' | 'ServerSentEvents' | 'LongPolling';

/** Who a request authenticated as. The hub server compares `userId` across a connection's requests. */
export interface HubIdentity<TUser> {
  readonly user: TUser;
  readonly userId: string;
  /** The connection is closed (Close with `allowReconnect: true`) at this moment; `null`: never. */
  readonly expiresAt: Date | null;
}

/** Framed text for one connection, built by the hub (often once, and shared by many connections). */
export interface OutgoingFrame {
  /** One or more complete JSON hub messages, each ending in the record separator. */
  readonly text: string;
  /** How many trackable messages (types 1–5) `text` holds; stateful reconnect numbers them. */
  readonly messageCount: number;
  /** The invocation target of each message in `text` (for metrics); empty for completions. */
  readonly targets: readonly string[];
  /**
   * `text` as UTF-8, for a frame shared by many connections: a byte-oriented transport
   * (WebSockets) then sends it without encoding it once per connection.
   */
  readonly encoded?: Buffer;
}

export interface CloseOptions {
  /** Shown to the client as "Server returned an error on close: <error>". */
  readonly error?: string;
  /** Tells a client with automatic reconnect to come back (with a fresh negotiate). */
  readonly allowReconnect?: boolean;
}

/** The side of a connection that a hub sees. */
export interface HubConnectionContext<TUser> {
  /** The public connection id (never the secret connection token). */
  readonly connectionId: string;
  /** The identity of the latest request that carried the connection's receiving side. */
  readonly identity: HubIdentity<TUser>;
  readonly transport: TransportKind;
  /** False once the connection has ended; sends are then ignored. */
  readonly isOpen: boolean;
  send(frame: OutgoingFrame): void;
  /** Sends Close and ends the connection; idempotent. */
  close(options?: CloseOptions): void;
}

/** One invocation, as its method sees it. */
export interface HubCall {
  /** `undefined` for a fire-and-forget invocation (no Completion is sent). */
  readonly invocationId: string | undefined;
  /**
   * Runs `callback` right after this invocation's Completion was written (or after the
   * method finished, when no Completion is owed), before any other invocation runs.
   * Lets a method hold back messages that must follow its Completion.
   */
  afterCompletion(callback: () => void): void;
}

/** Thrown by a hub method: the message goes to the client as the Completion's error. */
export class HubError extends Error {}

/**
 * A hub method. Arguments arrive as parsed JSON, unchecked. The resolved value becomes the
 * Completion's `result` (`undefined`: a void completion). Any error other than `HubError`
 * is logged and reported to the client without details.
 */
export type HubMethod<TSession> = (session: TSession, args: readonly unknown[], call: HubCall) => unknown;

/**
 * What a hub server serves. Methods run one at a time per connection, in arrival order
 * (like ASP.NET's default of one parallel invocation per client).
 */
export interface HubDefinition<TUser, TSession> {
  /** Hub methods by name; clients' targets are matched case-insensitively. */
  readonly methods: Readonly<Record<string, HubMethod<TSession>>>;
  /** Called once the handshake succeeded; the session is handed to every method call. */
  connected(connection: HubConnectionContext<TUser>): TSession;
  /** Called once when the connection ends, however it ends. Must not throw. */
  disconnected(session: TSession): void;
}
