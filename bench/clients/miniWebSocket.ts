import { createHash, randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

export interface MiniWebSocketHandlers {
  /** One whole text or binary message (fragments joined). The buffer may be reused: copy what you keep. */
  onMessage(payload: Buffer, socket: MiniWebSocket): void;
  /** The socket ended; `clean` when a close frame was exchanged. */
  onClose(code: number, clean: boolean): void;
}

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/**
 * A minimal WebSocket client on a raw TCP socket, light enough that thousands of them in one
 * process cost less than the server that feeds them: no per-message events beyond one call,
 * no string decoding (the caller scans bytes), masked client frames as RFC 6455 requires.
 */
export class MiniWebSocket {
  private socket: Socket | null = null;
  private pending: Buffer | null = null;
  private fragments: Buffer[] | null = null;
  private closed = false;
  private closeCode = 1006;
  private readonly mask = randomBytes(4);

  private constructor(private readonly handlers: MiniWebSocketHandlers) {}

  /** Opens the socket and completes the upgrade; rejects on any other answer than 101. */
  static open(
    options: { host: string; port: number; path: string; headers?: Record<string, string>; localAddress?: string; timeoutMs?: number },
    handlers: MiniWebSocketHandlers,
  ): Promise<MiniWebSocket> {
    const ws = new MiniWebSocket(handlers);
    return new Promise((resolve, reject) => {
      const key = randomBytes(16).toString('base64');
      const socket = connect({ host: options.host, port: options.port, ...(options.localAddress ? { localAddress: options.localAddress } : {}) });
      socket.setNoDelay(true);
      let head = Buffer.alloc(0);
      let upgraded = false;
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error('websocket upgrade timed out'));
      }, options.timeoutMs ?? 30_000);
      socket.on('error', (error) => {
        if (!upgraded) {
          clearTimeout(timer);
          reject(error);
        }
      });
      socket.on('close', () => {
        if (!upgraded) {
          clearTimeout(timer);
          reject(new Error('socket closed during the upgrade'));
          return;
        }
        ws.finish();
      });
      socket.on('connect', () => {
        const extra = Object.entries(options.headers ?? {}).map(([k, v]) => `${k}: ${v}\r\n`).join('');
        socket.write(
          `GET ${options.path} HTTP/1.1\r\nHost: ${options.host}:${options.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
            `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`,
        );
      });
      socket.on('data', (chunk: Buffer) => {
        if (upgraded) {
          ws.receive(chunk);
          return;
        }
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        const response = head.subarray(0, end).toString('latin1');
        clearTimeout(timer);
        const status = /^HTTP\/1\.1 (\d+)/.exec(response)?.[1];
        const accept = /\r\nsec-websocket-accept:\s*(\S+)/i.exec(response)?.[1];
        const expected = createHash('sha1').update(key + GUID).digest('base64');
        if (status !== '101' || accept !== expected) {
          socket.destroy();
          reject(new Error(`upgrade answered ${status ?? response.slice(0, 40)}`));
          return;
        }
        upgraded = true;
        ws.socket = socket;
        resolve(ws);
        const rest = head.subarray(end + 4);
        if (rest.length > 0) ws.receive(rest);
      });
    });
  }

  get isOpen(): boolean {
    return this.socket !== null && !this.closed;
  }

  send(text: string): void {
    if (!this.isOpen) return;
    this.socket!.write(this.frame(0x1, Buffer.from(text)));
  }

  /** Sends a close frame and ends the socket. */
  close(code = 1000): void {
    if (!this.isOpen) return;
    const body = Buffer.alloc(2);
    body.writeUInt16BE(code);
    this.socket!.end(this.frame(0x8, body));
  }

  /** Drops the TCP connection without a close frame (a lost network). */
  destroy(): void {
    this.socket?.destroy();
  }

  private frame(opcode: number, payload: Buffer): Buffer {
    const length = payload.length;
    const headerLength = length < 126 ? 6 : length < 65536 ? 8 : 14;
    const frame = Buffer.allocUnsafe(headerLength + length);
    frame[0] = 0x80 | opcode;
    if (length < 126) frame[1] = 0x80 | length;
    else if (length < 65536) {
      frame[1] = 0x80 | 126;
      frame.writeUInt16BE(length, 2);
    } else {
      frame[1] = 0x80 | 127;
      frame.writeBigUInt64BE(BigInt(length), 2);
    }
    this.mask.copy(frame, headerLength - 4);
    for (let i = 0; i < length; i++) frame[headerLength + i] = payload[i]! ^ this.mask[i & 3]!;
    return frame;
  }

  private receive(chunk: Buffer): void {
    let data = this.pending === null ? chunk : Buffer.concat([this.pending, chunk]);
    this.pending = null;
    let offset = 0;
    while (data.length - offset >= 2) {
      const b0 = data[offset]!;
      const b1 = data[offset + 1]!;
      let length = b1 & 0x7f;
      let header = 2;
      if (length === 126) {
        if (data.length - offset < 4) break;
        length = data.readUInt16BE(offset + 2);
        header = 4;
      } else if (length === 127) {
        if (data.length - offset < 10) break;
        length = Number(data.readBigUInt64BE(offset + 2));
        header = 10;
      }
      if ((b1 & 0x80) !== 0) header += 4; // servers never mask; tolerate it anyway
      if (data.length - offset < header + length) break;
      const payload = data.subarray(offset + header, offset + header + length);
      offset += header + length;
      this.handleFrame(b0 & 0x80, b0 & 0x0f, payload);
      if (this.closed) return;
    }
    if (offset < data.length) this.pending = Buffer.from(data.subarray(offset));
  }

  private handleFrame(fin: number, opcode: number, payload: Buffer): void {
    switch (opcode) {
      case 0x0:
      case 0x1:
      case 0x2:
        if (!fin) {
          (this.fragments ??= []).push(Buffer.from(payload));
          return;
        }
        if (this.fragments !== null) {
          this.fragments.push(payload);
          payload = Buffer.concat(this.fragments);
          this.fragments = null;
        }
        this.handlers.onMessage(payload, this);
        return;
      case 0x8:
        this.closeCode = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
        if (this.socket && !this.closed) this.socket.end(this.frame(0x8, payload.subarray(0, 2)));
        this.finish(true);
        return;
      case 0x9:
        this.socket?.write(this.frame(0xa, payload));
        return;
      default:
        return;
    }
  }

  private finish(clean = false): void {
    if (this.closed) return;
    this.closed = true;
    this.handlers.onClose(clean ? this.closeCode : 1006, clean);
  }
}
