import type { TransportKind } from './hubDefinition.ts';

/**
 * The receiving side of a connection as the connection sees it: one open WebSocket, one SSE
 * response, or the long-polling queue. Chunks handed to `write` always hold whole messages
 * ending in the record separator, and one chunk is never split (clients reject split messages).
 */
export interface TransportChannel {
  readonly kind: TransportKind;
  /** `encoded`, when given, is `chunk` as UTF-8 already (see `OutgoingFrame.encoded`). */
  write(chunk: string, encoded?: Buffer): void;
  /** Bytes written but not yet handed to the network; bounded by `maxSendBufferBytes`. */
  readonly pendingBytes: number;
  /**
   * Ends the transport after what was already written. Returns true when the transport still
   * has to deliver data (a long poll yet to come); it then calls `release` when done.
   */
  end(): boolean;
  /** Per-heartbeat housekeeping (long polling: the poll timeout and a client that stopped polling). */
  tick?(now: number): void;
}
