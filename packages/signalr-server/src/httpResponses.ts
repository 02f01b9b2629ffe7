import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

/** A status with an optional short text body (ASP.NET answers its hub errors the same way). */
export interface HttpRejection {
  readonly status: number;
  readonly text?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

export const UNAUTHORIZED: HttpRejection = { status: 401, headers: { 'WWW-Authenticate': 'Bearer' } };

/** Ends `res` with a plain-text answer, unless something was already sent. */
export function respond(res: ServerResponse, rejection: HttpRejection): void {
  if (res.headersSent || res.writableEnded) return;
  const body = rejection.text ?? '';
  res.statusCode = rejection.status;
  for (const [name, value] of Object.entries(rejection.headers ?? {})) res.setHeader(name, value);
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
}

/** Answers a WebSocket upgrade request with a plain HTTP error and closes the socket. */
export function rejectUpgrade(socket: Duplex, rejection: HttpRejection): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = rejection.text ?? '';
  const headers = Object.entries({
    Connection: 'close',
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(body)),
    ...rejection.headers,
  }).map(([name, value]) => `${name}: ${value}\r\n`);
  socket.once('finish', () => socket.destroy());
  socket.end(`HTTP/1.1 ${rejection.status} ${STATUS_CODES[rejection.status] ?? ''}\r\n${headers.join('')}\r\n${body}`);
}

/**
 * Reads a request body up to `maxBytes`; `null` when it is larger. Stops reading at the limit
 * without destroying the request, so that the caller can still answer 413.
 */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > maxBytes) {
        req.off('data', onData);
        req.pause();
        resolve(null);
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    // Decode once at the end: a multi-byte character may straddle two chunks.
    req.once('end', () => resolve(Buffer.concat(chunks, size).toString('utf8')));
    req.once('error', reject);
    req.once('close', () => reject(new Error('request closed before its body was read')));
  });
}
