import type { HubLogger } from './hubLogger.ts';
import { HubError, type HubCall, type HubMethod, type OutgoingFrame } from './hubDefinition.ts';
import { completionFrame, MessageType, type InvocationMessage } from './hubMessages.ts';
import type { HubServerMetrics, InvocationOutcome } from './hubServerMetrics.ts';
import { InvocationRateLimiter } from './invocationRateLimiter.ts';

/** Hub methods keyed by lower-cased name, so lookups are case-insensitive like ASP.NET's. */
export type MethodTable<TSession> = ReadonlyMap<string, { readonly name: string; readonly method: HubMethod<TSession> }>;

export function methodTable<TSession>(methods: Readonly<Record<string, HubMethod<TSession>>>): MethodTable<TSession> {
  return new Map(Object.entries(methods).map(([name, method]) => [name.toLowerCase(), { name, method }]));
}

/**
 * Runs one connection's invocations one at a time, in arrival order, and answers each
 * invocation that has an id with exactly one Completion. Rejections that need no method run
 * (rate limit, unknown method, streaming) are answered at once.
 */
/** Where a dispatcher sends its Completions and logs (its connection). */
export interface InvocationOwner {
  send(frame: OutgoingFrame): void;
  readonly logger: HubLogger;
}

export class InvocationDispatcher<TSession> {
  private queue: Promise<void> = Promise.resolve();
  private pending = 0;
  private stopped = false;
  private readonly limiter: InvocationRateLimiter;

  constructor(
    private readonly methods: MethodTable<TSession>,
    private readonly maxPerSecond: number,
    private readonly owner: InvocationOwner,
    private readonly metrics: HubServerMetrics,
    now: number,
  ) {
    this.limiter = new InvocationRateLimiter(maxPerSecond, now);
  }

  dispatch(message: InvocationMessage, session: TSession, now: number): void {
    const entry = this.methods.get(message.target.toLowerCase());
    const label = entry?.name ?? 'unknown';
    // The queue bound keeps memory flat even when methods are slow and the rate is not exceeded.
    if (!this.limiter.tryTake(now) || this.pending >= this.maxPerSecond) {
      this.reject(message, label, 'rate-limited', `Rate limit exceeded: at most ${this.maxPerSecond} invocations per second.`);
    } else if (entry === undefined) {
      this.reject(message, label, 'unknown-method', `Unknown hub method '${message.target.slice(0, 128)}'.`);
    } else if (message.type === MessageType.StreamInvocation) {
      this.reject(message, label, 'unsupported', `The client attempted to invoke the non-streaming '${entry.name}' method with a streaming invocation.`);
    } else if (message.streamIds.length > 0) {
      this.reject(message, label, 'unsupported', `Client-to-server streaming is not supported by '${entry.name}'.`);
    } else {
      this.pending++;
      this.queue = this.queue.then(() => this.run(message, entry.name, entry.method, session));
    }
  }

  /** Drops queued invocations; the connection is gone, so nobody is owed a Completion. */
  stop(): void {
    this.stopped = true;
  }

  private async run(message: InvocationMessage, name: string, method: HubMethod<TSession>, session: TSession): Promise<void> {
    this.pending--;
    if (this.stopped) return;
    const callbacks: (() => void)[] = [];
    const call: HubCall = { invocationId: message.invocationId, afterCompletion: (callback) => callbacks.push(callback) };
    let outcome: { result: unknown } | { error: string };
    try {
      outcome = { result: await method(session, message.arguments, call) };
      this.metrics.invocation(name, 'ok');
    } catch (error) {
      outcome = { error: this.describe(error, name) };
      this.metrics.invocation(name, 'error');
    }
    if (message.invocationId !== undefined && !this.stopped) {
      this.owner.send({ text: this.completion(message.invocationId, outcome, name), messageCount: 1, targets: [] });
    }
    for (const callback of callbacks) {
      try {
        callback();
      } catch (error) {
        this.owner.logger.error({ err: error, method: name }, 'afterCompletion callback failed');
      }
    }
  }

  private completion(invocationId: string, outcome: { result: unknown } | { error: string }, name: string): string {
    try {
      return completionFrame(invocationId, outcome);
    } catch (error) {
      // A result JSON cannot express (a BigInt, a cycle) is a server bug, not the client's.
      return completionFrame(invocationId, { error: this.describe(error, name) });
    }
  }

  private describe(error: unknown, name: string): string {
    if (error instanceof HubError) return error.message;
    this.owner.logger.error({ err: error, method: name }, 'hub method failed');
    return `An unexpected error occurred invoking '${name}' on the server.`;
  }

  private reject(message: InvocationMessage, label: string, outcome: InvocationOutcome, error: string): void {
    this.metrics.invocation(label, outcome);
    if (message.invocationId === undefined) return;
    this.owner.send({ text: completionFrame(message.invocationId, { error }), messageCount: 1, targets: [] });
  }
}
