import type { Granted } from './api.ts';
import { reconnectDelay } from './backoff.ts';
import { type ConnectionState, INITIAL_CONNECTION } from './connectionState.ts';
import { StatuscastError, asStatuscastError } from './errors.ts';
import type { Link } from './transports/link.ts';
import type { StreamGrant } from './wire.ts';

/** Which transport a follower uses: `auto` (SignalR's WebSockets → SSE → long polling, then statuscast SSE) or one of them. */
export type TransportOption = 'auto' | 'websockets' | 'server-sent-events' | 'long-polling' | 'sse';

export interface LiveConnectionOptions<G extends StreamGrant> {
  readonly transport: TransportOption;
  /** Asks the service for a grant (with the user token). Its 401/404 are final. */
  negotiate(): Promise<Granted<G>>;
  /** Called with every grant, the first and each renewal, before a link uses it. */
  granted(granted: Granted<G>): void;
  /** Opens a SignalR link (`transports` as the option says, `auto` for all three). */
  openSignalR(grant: G, signal: AbortSignal): Promise<Link>;
  /** Opens a link to statuscast's SSE endpoint. */
  openSse(grant: G, signal: AbortSignal): Promise<Link>;
  /** Runs each time a link went live (serverless catch-up). */
  live(grant: G): void;
  state(state: ConnectionState): void;
}

/** A connection that lasted this long was a recovery: the back-off starts over after it. */
const HEALTHY_MS = 5_000;

/** Renew this long before a stream token expires: a quarter of its lifetime, at most a minute. */
function renewalMargin(lifetimeMs: number): number {
  return Math.min(60_000, lifetimeMs / 4);
}

/**
 * Keeps one live link to the service for a job or a feed: negotiate, open (SignalR, falling
 * back to statuscast SSE when no SignalR transport opens), reconnect with the back-off after
 * a loss, and renew the stream token before `expires_at` by opening the next link before
 * the old one is closed, so that a renewal shows no reconnect and loses nothing (the two links
 * overlap; the caller de-duplicates by revision).
 */
export class LiveConnection<G extends StreamGrant> {
  readonly #options: LiveConnectionOptions<G>;
  #state: ConnectionState = INITIAL_CONNECTION;
  #granted: Granted<G> | null = null;
  #link: Link | null = null;
  #useSse: boolean;
  #signalRWasLive = false;
  #running = false;
  #closed = false;
  #wake: (() => void) | null = null;
  #renewTimer: ReturnType<typeof setTimeout> | undefined;
  #renewing: Promise<void> | null = null;
  /** Set when a renewal learnt that the job or the sign-in is gone. */
  #fatal: StatuscastError | null = null;
  /** Aborts whatever is being opened when the connection is closed. */
  #abort = new AbortController();

  constructor(options: LiveConnectionOptions<G>) {
    this.#options = options;
    this.#useSse = options.transport === 'sse';
  }

  get state(): ConnectionState {
    return this.#state;
  }

  /** Starts connecting (again, when offline). */
  start(): void {
    if (this.#closed || this.#running) return;
    this.#running = true;
    void this.#run().finally(() => {
      this.#running = false;
    });
  }

  /** Retries now: skips the back-off wait, or starts again when offline. */
  reconnect(): void {
    if (this.#closed) return;
    if (this.#wake) this.#wake();
    else this.start();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#renewTimer);
    this.#abort.abort();
    this.#link?.stop();
    this.#link = null;
    this.#wake?.();
    this.#set({ status: 'offline', attempt: 0, nextRetryAt: null, error: null });
  }

  async #run(): Promise<void> {
    let attempt = 0;
    let renew = false;
    while (!this.#closed) {
      let error: StatuscastError;
      try {
        await this.#connect(renew);
        const liveAt = Date.now();
        renew = false;
        error = (await this.#untilLost()) ?? new StatuscastError('unavailable', 'the connection ended');
        // Only a connection that lasted counts as a recovery. One the service ends at once
        // (a token it no longer takes, a stream it refuses) is a failed attempt: back off, and
        // negotiate afresh, or the follower would reconnect in a tight loop.
        if (Date.now() - liveAt >= HEALTHY_MS) attempt = 0;
        else renew = true;
      } catch (failure) {
        error = asStatuscastError(failure);
        // A refused stream token or a failed open: the next attempt negotiates afresh, and
        // negotiate's answer is what can say the job or the sign-in is gone.
        renew = true;
      }
      if (this.#closed) return;
      if (error.permanent) {
        // A retry after this must ask the service again, not reuse a grant it has withdrawn.
        this.#granted = null;
        this.#set({ status: 'offline', attempt: 0, nextRetryAt: null, error });
        return;
      }
      attempt++;
      const delay = reconnectDelay(attempt);
      this.#set({ status: 'reconnecting', attempt, nextRetryAt: Date.now() + delay, error });
      await this.#pause(delay, error);
    }
  }

  /** Negotiates when needed, opens a link and goes live. */
  async #connect(renew: boolean): Promise<void> {
    if (!this.#granted || renew || this.#expiring(this.#granted)) await this.#negotiate();
    const grant = this.#granted!.grant;
    const link = await this.#open(grant);
    if (this.#closed) {
      link.stop();
      return;
    }
    this.#link = link;
    this.#goLive(link, grant);
    this.#scheduleRenewal();
  }

  async #negotiate(): Promise<Granted<G>> {
    const granted = await this.#options.negotiate();
    if (this.#closed) throw new StatuscastError('unavailable', 'closed');
    this.#granted = granted;
    this.#options.granted(granted);
    return granted;
  }

  #goLive(link: Link, grant: G): void {
    this.#set({
      status: 'live',
      transport: link.transport,
      fallback: link.transport === 'sse' && this.#options.transport === 'auto',
      serverless: grant.serverless === true,
      attempt: 0,
      nextRetryAt: null,
      error: null,
    });
    this.#options.live(grant);
  }

  /** SignalR first (unless SSE was asked for or already fallen back to), then statuscast SSE. */
  async #open(grant: G): Promise<Link> {
    const signal = this.#abort.signal;
    if (this.#useSse) return this.#options.openSse(grant, signal);
    try {
      const link = await this.#options.openSignalR(grant, signal);
      this.#signalRWasLive = true;
      return link;
    } catch (error) {
      // No SignalR transport could be opened at the start: statuscast's SSE endpoint carries
      // the same events, and a follower that fell back stays on SSE. Once SignalR worked, a
      // failed reconnect is an outage to wait out, not a reason to change the path.
      if (this.#options.transport !== 'auto' || this.#signalRWasLive || this.#closed) throw error;
      const link = await this.#options.openSse(grant, signal);
      this.#useSse = true;
      return link;
    }
  }

  /** Resolves with the reason the live link (or the one a renewal replaced it with) ended. */
  async #untilLost(): Promise<StatuscastError | null> {
    for (;;) {
      const link = this.#link;
      if (!link) {
        const fatal = this.#fatal;
        this.#fatal = null;
        return fatal;
      }
      const error = await link.ended;
      if (this.#closed) return null;
      if (this.#link !== link) continue;
      // A renewal in flight may already be opening the next link: the loss is not visible if it succeeds.
      if (this.#renewing) {
        await this.#renewing;
        if (this.#link !== link) continue;
      }
      clearTimeout(this.#renewTimer);
      this.#link = null;
      return error;
    }
  }

  #expiring(granted: Granted<G>): boolean {
    return Date.now() >= granted.receivedAt + granted.lifetimeMs - renewalMargin(granted.lifetimeMs);
  }

  #scheduleRenewal(): void {
    clearTimeout(this.#renewTimer);
    const granted = this.#granted;
    if (!granted || granted.lifetimeMs <= 0) return;
    const at = granted.receivedAt + granted.lifetimeMs - renewalMargin(granted.lifetimeMs);
    this.#renewTimer = setTimeout(() => {
      this.#renewing = this.#renew().finally(() => {
        this.#renewing = null;
      });
    }, Math.max(0, at - Date.now()));
  }

  /**
   * Make before break: a fresh grant, a new link on the same path, and only then the old
   * link closed. On failure, tries again while the old token lasts; after that the old link
   * ends and the ordinary reconnect takes over.
   */
  async #renew(): Promise<void> {
    const old = this.#link;
    const expiresAt = this.#granted ? this.#granted.receivedAt + this.#granted.lifetimeMs : 0;
    if (!old || this.#closed) return;
    let next: Link;
    let grant: G;
    try {
      grant = (await this.#negotiate()).grant;
      next = await this.#open(grant);
    } catch (failure) {
      const error = asStatuscastError(failure);
      if (this.#closed || this.#link !== old) return;
      if (error.permanent) {
        // The job or the sign-in is gone: end the live link now and report why.
        this.#fatal = error;
        this.#link = null;
        old.stop();
        return;
      }
      const left = expiresAt - Date.now();
      if (left > 2_000) {
        this.#renewTimer = setTimeout(() => {
          this.#renewing = this.#renew().finally(() => {
            this.#renewing = null;
          });
        }, Math.min(5_000, left / 2));
      }
      return;
    }
    if (this.#closed || this.#link !== old) {
      next.stop();
      return;
    }
    this.#link = next;
    old.stop();
    this.#goLive(next, grant);
    this.#scheduleRenewal();
  }

  /** Waits `ms` (or until `reconnect()`); while the browser reports no network, until it returns. */
  async #pause(ms: number, error: StatuscastError): Promise<void> {
    const nav = (globalThis as { navigator?: { onLine?: boolean } }).navigator;
    const events = globalThis as unknown as Partial<Pick<EventTarget, 'addEventListener' | 'removeEventListener'>>;
    await new Promise<void>((resolve) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const done = () => {
        clearTimeout(timer);
        events.removeEventListener?.('online', done);
        this.#wake = null;
        resolve();
      };
      this.#wake = done;
      if (nav?.onLine === false && events.addEventListener) {
        this.#set({ status: 'offline', nextRetryAt: null, error });
        events.addEventListener('online', done);
        return;
      }
      timer = setTimeout(done, ms);
    });
  }

  #set(change: Partial<ConnectionState>): void {
    const current = this.#state;
    if ((Object.keys(change) as (keyof ConnectionState)[]).every((key) => current[key] === change[key])) return;
    const next = { ...current, ...change };
    this.#state = next;
    this.#options.state(next);
  }
}
