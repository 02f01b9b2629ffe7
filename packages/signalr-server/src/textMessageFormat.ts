/** The record separator (0x1E) that ends every JSON hub message, the handshake included. */
export const RECORD_SEPARATOR = '\u001e';

/** Frames one JSON text as a hub message. */
export function frameMessage(json: string): string {
  return json + RECORD_SEPARATOR;
}

/** A message, or an unfinished trailing message, grew past the inbound size limit. */
export class MessageTooLargeError extends Error {
  constructor(readonly limitBytes: number) {
    super(`Message exceeds the maximum size of ${limitBytes} bytes.`);
  }
}

/**
 * Splits inbound chunks on the record separator. Clients batch several messages into one
 * WebSocket frame or POST body, and nothing forbids a message from spanning two chunks, so
 * an unfinished trailing message is kept and prepended to the next chunk.
 */
export class RecordReader {
  private partial = '';

  /** @param maxMessageBytes UTF-8 size limit for one message (and for a kept partial one). */
  constructor(private readonly maxMessageBytes: number) {}

  /** Complete messages in arrival order, without separators. Throws `MessageTooLargeError`. */
  read(chunk: string): string[] {
    const text = this.partial.length === 0 ? chunk : this.partial + chunk;
    const messages: string[] = [];
    let start = 0;
    for (let end = text.indexOf(RECORD_SEPARATOR); end !== -1; end = text.indexOf(RECORD_SEPARATOR, start)) {
      const message = text.slice(start, end);
      this.checkSize(message);
      messages.push(message);
      start = end + 1;
    }
    this.partial = start === 0 ? text : text.slice(start);
    this.checkSize(this.partial);
    return messages;
  }

  /** Whether an unfinished message is waiting for the rest of its bytes. */
  get hasPartial(): boolean {
    return this.partial.length > 0;
  }

  private checkSize(text: string): void {
    // A UTF-16 code unit is at most 3 UTF-8 bytes, so most texts skip the exact count.
    if (text.length * 3 <= this.maxMessageBytes) return;
    if (Buffer.byteLength(text, 'utf8') > this.maxMessageBytes) {
      this.partial = '';
      throw new MessageTooLargeError(this.maxMessageBytes);
    }
  }
}
