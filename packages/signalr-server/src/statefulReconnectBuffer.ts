import { SendAllowance } from './sendAllowance.ts';

/** Sent frames awaiting the client's Ack, numbered by trackable message. */
interface BufferedFrame {
  readonly text: string;
  readonly firstId: number;
  readonly lastId: number;
  readonly bytes: number;
}

/**
 * Both halves of stateful reconnect for one connection (protocol doc §9):
 * - outbound: keeps each sent trackable frame until the client acks it, and on a new socket
 *   yields the Sequence number (the oldest unacknowledged message, as the official
 *   implementations send it) followed by the frames to replay;
 * - inbound: numbers the client's trackable messages, drops duplicates after a reconnect,
 *   and tells when an Ack is owed.
 * Numbers are implicit (never written into messages) and never reset.
 */
export class StatefulReconnectBuffer {
  private frames: BufferedFrame[] = [];
  private bufferedBytes = 0;
  private sentCount = 0;

  private nextInboundId = 1;
  private latestProcessedId = 0;
  private ackOwed = false;
  private awaitingSequence = false;

  private readonly allowance: SendAllowance;

  /** @param maxBytes bound on unacknowledged bytes. */
  constructor(maxBytes: number) {
    this.allowance = new SendAllowance(maxBytes);
  }

  /**
   * Records a sent frame holding `messageCount` trackable messages; false when over the bound.
   * The bound allows one oversized frame (a large catch-up) on top, see `SendAllowance`.
   */
  record(text: string, messageCount: number): boolean {
    if (messageCount <= 0) return true;
    const bytes = text.length;
    this.frames.push({ text, firstId: this.sentCount + 1, lastId: this.sentCount + messageCount, bytes });
    this.sentCount += messageCount;
    this.bufferedBytes += bytes;
    return this.allowance.check(this.bufferedBytes, bytes);
  }

  /** The client processed every message numbered ≤ `sequenceId`. */
  ack(sequenceId: number): void {
    let drop = 0;
    while (drop < this.frames.length && this.frames[drop]!.lastId <= sequenceId) {
      this.bufferedBytes -= this.frames[drop]!.bytes;
      drop++;
    }
    if (drop > 0) this.frames = this.frames.slice(drop);
  }

  /**
   * For a new socket: the Sequence number to send first, then the frames to resend in order.
   * A partly acknowledged frame is resent whole; the client drops what it has already seen.
   */
  replay(): { sequenceId: number; frames: readonly string[] } {
    const sequenceId = this.frames[0]?.firstId ?? this.sentCount + 1;
    return { sequenceId, frames: this.frames.map((frame) => frame.text) };
  }

  /** The socket dropped: ignore the client until its Sequence arrives on the next one. */
  socketReplaced(): void {
    this.awaitingSequence = true;
  }

  /** Whether messages from the client are being dropped until its Sequence. */
  get isAwaitingSequence(): boolean {
    return this.awaitingSequence;
  }

  /** The client's Sequence; false when it claims more than we ever received (out of step). */
  sequence(sequenceId: number): boolean {
    this.awaitingSequence = false;
    if (sequenceId > this.nextInboundId) return false;
    this.nextInboundId = sequenceId;
    return true;
  }

  /** Numbers one inbound trackable message; false for a duplicate that must be dropped. */
  acceptTrackable(): boolean {
    const id = this.nextInboundId++;
    // A duplicate means our earlier Ack may have been lost with the old socket: ack again.
    this.ackOwed = true;
    if (id <= this.latestProcessedId) return false;
    this.latestProcessedId = id;
    return true;
  }

  /** The Ack to send now, or null when no trackable message arrived since the last one. */
  takeAck(): number | null {
    if (!this.ackOwed) return null;
    this.ackOwed = false;
    return this.latestProcessedId;
  }

  get unacknowledgedBytes(): number {
    return this.bufferedBytes;
  }
}
