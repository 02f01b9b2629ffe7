import type { IncomingMessage } from 'node:http';
import { PayloadTooLargeError, ValidationError } from '../errors.ts';

/**
 * Whether `readJsonBody` can take this request: plain (no `Content-Encoding`) UTF-8. Anything
 * else goes through express's JSON parser, which inflates and refuses other charsets.
 */
export function isPlainUtf8(req: IncomingMessage): boolean {
  const encoding = req.headers['content-encoding'];
  if (encoding !== undefined && encoding.toLowerCase() !== 'identity') return false;
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(req.headers['content-type'] ?? '')?.[1];
  return charset === undefined || /^utf-?8$/i.test(charset);
}

/**
 * Reads and parses a JSON body of at most `limit` bytes. The lean path of the ingest route: the
 * same answers as express's JSON parser (413 past the limit, before reading when
 * `Content-Length` says so; 400 naming the body for broken JSON), without its per-request
 * layers (content negotiation, charset decoding through iconv, stream piping).
 */
export function readJsonBody(req: IncomingMessage, limit: number): Promise<unknown> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) {
    req.pause();
    return Promise.reject(tooLarge(limit));
  }
  return new Promise((resolve, reject) => {
    // A reset after the body was refused or read must not be an unhandled 'error' event.
    req.on('error', () => {});
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('aborted', onAborted);
      req.off('error', onError);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        // As express's parser does: stop reading; Node discards the rest once the answer is sent.
        req.pause();
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      // An empty body reads as `{}`, as with express's parser (validation then names the fields).
      if (size === 0) return resolve({});
      const text = (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)).toString('utf8');
      try {
        resolve(JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text));
      } catch {
        reject(new ValidationError('The request body is not valid JSON.', [{ path: '', message: 'malformed JSON' }]));
      }
    };
    const onAborted = () => {
      cleanup();
      reject(new ValidationError('The request was aborted by the client.'));
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('aborted', onAborted);
    req.on('error', onError);
  });
}

function tooLarge(limit: number): PayloadTooLargeError {
  return new PayloadTooLargeError(`The request body exceeds the ${Math.round(limit / 1024 / 1024)} MiB limit.`);
}
