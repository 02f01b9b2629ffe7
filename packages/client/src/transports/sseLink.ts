import { StatuscastError, asStatuscastError } from '../errors.ts';
import type { Link, LinkMessage } from './link.ts';
import { readSse } from './sseReader.ts';

export interface SseLinkOptions {
  readonly url: string;
  readonly message: LinkMessage;
  readonly idleTimeoutMs: number;
  /** Cancels the link while it opens (a link that opened is ended with `stop()`). */
  readonly signal: AbortSignal;
  readonly fetch?: typeof fetch | undefined;
}

/**
 * statuscast's own SSE endpoint (contract §6) as a link: resolves once the stream answered
 * 200, rejects when it cannot be opened. A frame whose data is not JSON is skipped.
 */
export function openSseLink(options: SseLinkOptions): Promise<Link> {
  const controller = new AbortController();
  const cancel = () => controller.abort();
  if (options.signal.aborted) cancel();
  options.signal.addEventListener('abort', cancel, { once: true });
  return new Promise<Link>((resolve, reject) => {
    let open = false;
    let settle!: (error: StatuscastError | null) => void;
    const ended = new Promise<StatuscastError | null>((done) => (settle = done));
    const link: Link = { transport: 'sse', ended, stop: () => controller.abort() };
    readSse({
      url: options.url,
      signal: controller.signal,
      idleTimeoutMs: options.idleTimeoutMs,
      fetch: options.fetch,
      opened() {
        open = true;
        options.signal.removeEventListener('abort', cancel);
        resolve(link);
      },
      message(message) {
        if (controller.signal.aborted) return;
        let data: unknown = null;
        if (message.data !== '') {
          try {
            data = JSON.parse(message.data);
          } catch {
            return;
          }
        }
        options.message(message.event, data, message.id);
      },
    }).then(
      () => settle(controller.signal.aborted ? null : new StatuscastError('unavailable', 'the service ended the event stream')),
      (error: unknown) => {
        options.signal.removeEventListener('abort', cancel);
        if (!open) reject(controller.signal.aborted ? new StatuscastError('unavailable', 'cancelled') : renewable(error));
        settle(controller.signal.aborted ? null : asStatuscastError(error));
      },
    );
  });
}

/** As for SignalR: only negotiate decides that a job or a sign-in is gone; a refused stream is retried. */
function renewable(error: unknown): StatuscastError {
  const failure = asStatuscastError(error);
  return failure.kind === 'unavailable' ? failure : new StatuscastError('unavailable', failure.message, failure.status);
}
