import type { GetToken } from './api.ts';
import { type ConnectionState, INITIAL_CONNECTION } from './connectionState.ts';
import type { LiveConnection } from './liveConnection.ts';
import { Observable } from './observable.ts';
import { type SharedConnectionState, shareConnection, shareKey, sharedConnection } from './tabs/shareKey.ts';
import { type TabLeadership, joinTabs } from './tabs/tabLeadership.ts';
import type { StreamGrant } from './wire.ts';

/** Between tabs: the leader's updates, a follower's request for what it lacks, a new leader, and a retry. */
type TabMessage<P, H> =
  | { readonly kind: 'update'; readonly update: P; readonly connection: SharedConnectionState }
  | { readonly kind: 'hello'; readonly hello: H }
  | { readonly kind: 'leader' }
  | { readonly kind: 'reconnect' };

export interface SharingOptions {
  readonly share: boolean | string | undefined;
  readonly getToken: GetToken;
  /** What is followed, as part of the tab-sharing key (service, kind, id, transport). */
  readonly parts: readonly string[];
  readonly signal: AbortSignal | undefined;
}

/**
 * What `followJob` and `followJobs` share: this tab either holds the connection (its own, or
 * as the leader of the tabs following the same thing) or is fed by the leader tab over a
 * `BroadcastChannel`, and takes over when the leader goes. `P` is what the leader sends
 * (a delta, or everything after a follower's `H`ello).
 */
export abstract class SharedFollower<S, U, G extends StreamGrant, P, H> extends Observable<S, U> {
  readonly #sharing: SharingOptions;
  #tabs: TabLeadership<TabMessage<P, H>> | null = null;
  #connection: LiveConnection<G> | null = null;
  #connectionState: ConnectionState = INITIAL_CONNECTION;
  #closed = false;

  protected constructor(initial: S, sharing: SharingOptions) {
    super(initial);
    this.#sharing = sharing;
  }

  /** Opens the connection this tab holds; `state` receives its states. */
  protected abstract openConnection(state: (state: ConnectionState) => void): LiveConnection<G>;
  /** What a tab that is fed by another asks for (e.g. the revision it has). */
  protected abstract hello(): H;
  /** The leader's answer to a hello. */
  protected abstract answer(hello: H): P;
  /** Applies the leader's update in a tab it feeds. */
  protected abstract applyFromLeader(update: P): void;
  /** The connection state changed: publish it. */
  protected abstract connectionChanged(state: ConnectionState): void;
  /** Stops what the subclass runs besides the connection (timers). */
  protected abstract stopped(): void;

  get connectionState(): ConnectionState {
    return this.#connectionState;
  }

  protected get closed(): boolean {
    return this.#closed;
  }

  /** True while this tab holds the connection (its own or as leader). */
  protected get holdsConnection(): boolean {
    return this.#connection !== null;
  }

  reconnect(): void {
    if (this.#closed) return;
    if (this.#connection) this.#connection.reconnect();
    else this.#tabs?.post({ kind: 'reconnect' });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.stopped();
    this.#tabs?.close();
    this.#tabs = null;
    const connection = this.#connection;
    this.#connection = null;
    connection?.close();
    this.#setConnection({ ...this.#connectionState, status: 'offline', attempt: 0, nextRetryAt: null });
  }

  /** Call last in the subclass constructor. */
  protected start(): void {
    const signal = this.#sharing.signal;
    if (signal?.aborted) {
      this.close();
      return;
    }
    signal?.addEventListener('abort', () => this.close(), { once: true });
    void this.#join();
  }

  /** The leader sends `update` to the tabs it feeds (nothing happens in other tabs). */
  protected broadcast(update: P): void {
    if (!this.#connection || !this.#tabs?.leading) return;
    this.#tabs.post({ kind: 'update', update, connection: shareConnection(this.#connectionState) });
  }

  async #join(): Promise<void> {
    const key = await shareKey(this.#sharing.share, this.#sharing.getToken, this.#sharing.parts);
    if (this.#closed) return;
    if (key !== null) {
      this.#tabs = joinTabs<TabMessage<P, H>>(key, {
        lead: () => this.#lead('leader'),
        resign: () => this.#resign(),
        message: (message) => this.#onTabMessage(message),
      });
    }
    if (!this.#tabs) {
      this.#lead('own');
    } else if (!this.#tabs.leading) {
      // Until this tab leads, another tab's connection feeds it: ask for what it lacks.
      this.#setConnection({ ...this.#connectionState, role: 'follower' });
      this.#tabs.post({ kind: 'hello', hello: this.hello() });
    }
  }

  /** This tab holds the connection now: open it (it resumes after what this tab has). */
  #lead(role: 'own' | 'leader'): void {
    if (this.#closed || this.#connection) return;
    const connection = this.openConnection((state) => {
      if (this.#connection === connection) this.#setConnection({ ...state, role });
    });
    this.#connection = connection;
    if (role === 'leader') this.#tabs?.post({ kind: 'leader' });
    connection.start();
  }

  /** This tab hands the connection over (closed, frozen, or put in the back/forward cache). */
  #resign(): void {
    // Forget it first: its closing state is this tab's business, not the other tabs'.
    const connection = this.#connection;
    this.#connection = null;
    connection?.close();
    if (!this.#closed) this.#setConnection({ ...this.#connectionState, role: 'follower' });
  }

  #onTabMessage(message: TabMessage<P, H>): void {
    if (this.#closed) return;
    switch (message.kind) {
      case 'update':
        if (this.#connection) return;
        this.#connectionState = sharedConnection(message.connection);
        this.applyFromLeader(message.update);
        return;
      case 'hello':
        if (this.#connection && this.#tabs?.leading) {
          this.#tabs.post({ kind: 'update', update: this.answer(message.hello), connection: shareConnection(this.#connectionState) });
        }
        return;
      case 'leader':
        if (!this.#connection) this.#tabs?.post({ kind: 'hello', hello: this.hello() });
        return;
      case 'reconnect':
        this.#connection?.reconnect();
        return;
      default: {
        const never: never = message;
        return never;
      }
    }
  }

  #setConnection(state: ConnectionState): void {
    if (state === this.#connectionState) return;
    this.#connectionState = state;
    this.connectionChanged(state);
  }
}
