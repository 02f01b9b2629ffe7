/** One parsed Server-Sent Event. */
export interface SseEvent {
  readonly event: string;
  readonly data: string;
  readonly id: string | undefined;
}

export interface SseConnection {
  readonly status: number;
  readonly headers: Headers;
  /** Every event received so far (comments excluded). */
  readonly events: SseEvent[];
  /** Comment lines received (heartbeats). */
  readonly comments: string[];
  /** Resolves when the server ends the stream. */
  readonly ended: Promise<void>;
  /** Waits until `count` events of `name` arrived (any name when omitted). */
  waitForEvents(count: number, name?: string, timeoutMs?: number): Promise<SseEvent[]>;
  close(): void;
  /** The body, for a response that is not an event stream (errors). */
  text(): Promise<string>;
}

/**
 * A small, strict SSE reader over fetch (spec parsing: `field:value`, optional space,
 * blank line dispatches, `id` may stand alone). Used where a test needs exact control of
 * the request headers and of what was received, frame by frame.
 */
export async function openSse(url: string, headers: Record<string, string> = {}): Promise<SseConnection> {
  const controller = new AbortController();
  const response = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: controller.signal });
  const events: SseEvent[] = [];
  const comments: string[] = [];
  const listeners = new Set<() => void>();
  const isStream = response.headers.get('content-type')?.startsWith('text/event-stream') ?? false;
  let bodyText: Promise<string> | undefined;

  const ended = (async () => {
    if (!isStream || !response.body) return;
    const decoder = new TextDecoder();
    let buffer = '';
    let event = '';
    let data: string[] = [];
    let id: string | undefined;
    try {
      for await (const chunk of response.body) {
        buffer += decoder.decode(chunk as Uint8Array, { stream: true });
        let newline;
        while ((newline = buffer.search(/\r\n|\r|\n/)) >= 0) {
          const line = buffer.slice(0, newline);
          buffer = buffer.slice(newline + (buffer.startsWith('\r\n', newline) ? 2 : 1));
          if (line === '') {
            if (data.length > 0) events.push({ event: event || 'message', data: data.join('\n'), id });
            event = '';
            data = [];
            id = undefined;
            for (const listener of listeners) listener();
            continue;
          }
          const colon = line.indexOf(':');
          const field = colon < 0 ? line : line.slice(0, colon);
          const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
          if (field === '') comments.push(value);
          else if (field === 'event') event = value;
          else if (field === 'data') data.push(value);
          else if (field === 'id') id = value;
        }
      }
    } catch {
      // Aborted by close(): the stream simply ends.
    } finally {
      for (const listener of listeners) listener();
    }
  })();
  let finished = false;
  void ended.then(() => (finished = true));

  return {
    status: response.status,
    headers: response.headers,
    events,
    comments,
    ended,
    waitForEvents(count, name, timeoutMs = 10_000) {
      const matching = () => events.filter((e) => name === undefined || e.event === name);
      return new Promise((resolve, reject) => {
        const check = () => {
          if (matching().length >= count) {
            clearTimeout(timer);
            listeners.delete(check);
            resolve(matching());
          } else if (finished) {
            clearTimeout(timer);
            listeners.delete(check);
            reject(new Error(`stream ended with ${matching().length}/${count} ${name ?? ''} events`));
          }
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`timed out with ${matching().length}/${count} ${name ?? ''} events`));
        }, timeoutMs);
        listeners.add(check);
        check();
      });
    },
    close: () => controller.abort(),
    text: () => (bodyText ??= response.text()),
  };
}
