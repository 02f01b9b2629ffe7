/** The parts of the browser this module uses, typed here so the package needs no DOM types. */
interface LockManagerLike {
  request(name: string, options: { signal?: AbortSignal }, callback: () => Promise<void> | void): Promise<unknown>;
}
interface ChannelLike {
  onmessage: ((event: { data: unknown }) => void) | null;
  postMessage(message: unknown): void;
  close(): void;
}
interface BrowserGlobals {
  navigator?: { locks?: LockManagerLike };
  BroadcastChannel?: new (name: string) => ChannelLike;
  document?: {
    addEventListener(type: string, listener: (event: { persisted?: boolean }) => void): void;
    removeEventListener(type: string, listener: (event: { persisted?: boolean }) => void): void;
  };
  addEventListener?(type: string, listener: (event: { persisted?: boolean }) => void): void;
  removeEventListener?(type: string, listener: (event: { persisted?: boolean }) => void): void;
}

export interface TabLeadershipHandlers<M> {
  /** This tab now holds the one connection for the key. */
  lead(): void;
  /** This tab no longer holds it (it was closed, or the page is being frozen or put in the back/forward cache). */
  resign(): void;
  /** A message another tab posted. */
  message(message: M): void;
}

export interface TabLeadership<M> {
  readonly leading: boolean;
  /** Sends `message` to the other tabs (not to this one). */
  post(message: M): void;
  close(): void;
}

/** True where tabs can share a connection: the Web Locks API and `BroadcastChannel`. */
export function canShareAcrossTabs(): boolean {
  const g = globalThis as unknown as BrowserGlobals;
  return typeof g.navigator?.locks?.request === 'function' && typeof g.BroadcastChannel === 'function';
}

/**
 * Leader election among the tabs of one origin for `key`: every tab asks for the Web Lock
 * `statuscast:<key>`; the browser grants it to one tab at a time and hands it to the next
 * waiting tab when the holder closes, crashes or lets go. A tab lets go (and stops asking)
 * when the page is frozen or enters the back/forward cache, and asks again when it resumes,
 * so a frozen tab never holds the connection the others depend on. Messages go over a
 * `BroadcastChannel` of the same name. Returns `null` where those APIs are missing.
 */
export function joinTabs<M>(key: string, handlers: TabLeadershipHandlers<M>): TabLeadership<M> | null {
  if (!canShareAcrossTabs()) return null;
  const g = globalThis as unknown as BrowserGlobals;
  const locks = g.navigator!.locks!;
  const name = `statuscast:${key}`;
  const channel = new g.BroadcastChannel!(name);
  let closed = false;
  let frozen = false;
  let leading = false;
  let waiting: AbortController | null = null;
  let letGo: (() => void) | null = null;

  function ask(): void {
    if (closed || frozen || waiting || letGo) return;
    const request = new AbortController();
    waiting = request;
    locks
      .request(name, { signal: request.signal }, () => {
        if (waiting === request) waiting = null;
        // Returning at once hands the lock to the next tab.
        if (closed || frozen) return;
        return new Promise<void>((resolve) => {
          letGo = () => {
            letGo = null;
            leading = false;
            resolve();
          };
          leading = true;
          handlers.lead();
        });
      })
      .catch(() => {
        // Aborted while waiting: this tab closed or froze.
      })
      .finally(() => {
        if (waiting === request) waiting = null;
      });
  }

  function resign(): void {
    if (!letGo) return;
    const release = letGo;
    handlers.resign();
    release();
  }

  function freeze(): void {
    if (frozen) return;
    frozen = true;
    waiting?.abort();
    waiting = null;
    resign();
  }

  function resume(): void {
    if (!frozen) return;
    frozen = false;
    ask();
  }

  const onPageHide = (event: { persisted?: boolean }) => {
    if (event.persisted) freeze();
  };
  const onPageShow = (event: { persisted?: boolean }) => {
    if (event.persisted) resume();
  };
  g.document?.addEventListener('freeze', freeze);
  g.document?.addEventListener('resume', resume);
  g.addEventListener?.('pagehide', onPageHide);
  g.addEventListener?.('pageshow', onPageShow);
  channel.onmessage = (event) => {
    if (!closed) handlers.message(event.data as M);
  };
  ask();

  return {
    get leading() {
      return leading;
    },
    post(message) {
      if (!closed) channel.postMessage(message);
    },
    close() {
      if (closed) return;
      closed = true;
      waiting?.abort();
      waiting = null;
      resign();
      channel.onmessage = null;
      channel.close();
      g.document?.removeEventListener('freeze', freeze);
      g.document?.removeEventListener('resume', resume);
      g.removeEventListener?.('pagehide', onPageHide);
      g.removeEventListener?.('pageshow', onPageShow);
    },
  };
}
