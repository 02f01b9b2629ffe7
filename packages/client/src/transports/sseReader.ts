import { StatuscastError, errorText, kindOfStatus } from '../errors.ts';

/** One Server-Sent Event. */
export interface SseMessage {
  readonly event: string;
  readonly data: string;
  /** The `id:` of this event, if it had one. */
  readonly id: string | undefined;
}

export interface SseReaderOptions {
  readonly url: string;
  readonly signal: AbortSignal;
  /** Called once the server answered 200 with an event stream. */
  opened(): void;
  message(message: SseMessage): void;
  /** Nothing (not even a heartbeat comment) for this long ends the stream as dead. */
  readonly idleTimeoutMs: number;
  readonly fetch?: typeof fetch | undefined;
}

/**
 * Reads one SSE stream with `fetch` (browsers and Node alike): unlike `EventSource` it sees
 * the status code (a 401 is not a network error) and never reconnects on its own, so the
 * caller decides how and from where to resume. Resolves when the server ends the stream;
 * rejects with a `StatuscastError` when it cannot be opened or the connection fails or goes
 * silent for `idleTimeoutMs`.
 */
export async function readSse(options: SseReaderOptions): Promise<void> {
  const doFetch = options.fetch ?? ((input: string, init?: RequestInit) => fetch(input, init));
  const controller = new AbortController();
  const abort = () => controller.abort();
  // A signal aborted already fires no 'abort' event any more.
  if (options.signal.aborted) abort();
  options.signal.addEventListener('abort', abort, { once: true });
  let idle: ReturnType<typeof setTimeout> | undefined;
  let timedOut = false;
  const touch = () => {
    clearTimeout(idle);
    idle = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, options.idleTimeoutMs);
  };
  try {
    touch();
    let response: Response;
    try {
      response = await doFetch(options.url, {
        headers: { accept: 'text/event-stream' },
        signal: controller.signal,
      });
    } catch (error) {
      throw failure(error, 'the event stream could not be opened');
    }
    if (!response.ok) {
      await response.body?.cancel().catch(() => {});
      throw new StatuscastError(kindOfStatus(response.status), `the event stream answered ${response.status}`, response.status);
    }
    if (!response.body || !/^text\/event-stream/i.test(response.headers.get('content-type') ?? '')) {
      throw new StatuscastError('unavailable', 'the answer is not an event stream');
    }
    options.opened();
    const parser = new SseParser(options.message);
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    for (;;) {
      let chunk: Awaited<ReturnType<typeof reader.read>>;
      try {
        chunk = await reader.read();
      } catch (error) {
        throw failure(error, 'the event stream failed');
      }
      if (chunk.done) return;
      touch();
      parser.push(chunk.value);
    }
  } finally {
    clearTimeout(idle);
    options.signal.removeEventListener('abort', abort);
    controller.abort();
  }

  function failure(error: unknown, what: string): unknown {
    if (options.signal.aborted) return error;
    return new StatuscastError('unavailable', timedOut ? `${what}: nothing arrived for ${options.idleTimeoutMs} ms` : `${what} (${errorText(error)})`);
  }
}

/** The SSE wire format (HTML Living Standard, "event stream interpretation"), fed text as it arrives (exported for its tests). */
export class SseParser {
  #buffer = '';
  #event = '';
  #data: string[] = [];
  #id: string | undefined;
  constructor(private readonly emit: (message: SseMessage) => void) {}

  push(text: string): void {
    this.#buffer += text;
    let start = 0;
    for (;;) {
      const match = /\r\n|\r|\n/g;
      match.lastIndex = start;
      const found = match.exec(this.#buffer);
      // A lone `\r` at the end may be the first half of `\r\n`: wait for more.
      if (!found || (found[0] === '\r' && found.index === this.#buffer.length - 1)) break;
      this.#line(this.#buffer.slice(start, found.index));
      start = found.index + found[0].length;
    }
    this.#buffer = this.#buffer.slice(start);
  }

  #line(line: string): void {
    if (line === '') {
      if (this.#data.length > 0) this.emit({ event: this.#event || 'message', data: this.#data.join('\n'), id: this.#id });
      // An id-only block fires no event in a browser but moves its last event id; pass it on.
      else if (this.#id !== undefined) this.emit({ event: '', data: '', id: this.#id });
      this.#event = '';
      this.#data = [];
      this.#id = undefined;
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.#event = value;
    else if (field === 'data') this.#data.push(value);
    else if (field === 'id' && !value.includes('\0')) this.#id = value;
  }
}
