import pg from 'pg';
import type { Logger } from 'pino';
import type { AppendSignal } from '../appendSignal.ts';

/** The channel every append notifies after its commit. */
export const APPENDED_CHANNEL = 'statuscast_appended';

export interface AppendListenerOptions {
  readonly connection: pg.ClientConfig;
  /** Woken on every notification, and after every reconnect (notifications may have been missed). */
  readonly signal: AppendSignal;
  readonly logger?: Logger;
  /** First reconnect delay; doubles up to 5 s. Defaults to 100 ms. */
  readonly reconnectDelayMs?: number;
}

export interface AppendListener {
  /** True while the LISTEN connection is up; followers poll faster while it is not. */
  readonly listening: boolean;
  /** Connects and listens; resolves after the first attempt, whether it worked or not. */
  start(): Promise<void>;
  close(): Promise<void>;
}

/**
 * One `LISTEN` connection per store, so that followers wake when any node appends instead
 * of polling. Notifications are a hint, never the data: a lost one (a dropped connection, a
 * node that died between commit and notify) costs at most one poll interval.
 */
export function createAppendListener(options: AppendListenerOptions): AppendListener {
  const { signal, logger } = options;
  const baseDelay = options.reconnectDelayMs ?? 100;
  let client: pg.Client | undefined;
  let listening = false;
  let closed = false;
  let failures = 0;
  let retryTimer: NodeJS.Timeout | undefined;

  async function connect(): Promise<void> {
    if (closed) return;
    const next = new pg.Client({ ...options.connection, application_name: 'statuscast:listen', keepAlive: true });
    client = next;
    const lost = (error?: Error) => {
      if (client !== next) return;
      client = undefined;
      listening = false;
      next.removeAllListeners('notification');
      next.end().catch(() => undefined);
      if (closed) return;
      if (failures === 0) logger?.warn({ err: error }, 'PostgreSQL LISTEN connection lost; polling until it is back');
      scheduleReconnect();
    };
    next.on('error', lost);
    next.on('end', () => lost());
    next.on('notification', () => signal.notify());
    try {
      await next.connect();
      await next.query(`LISTEN ${APPENDED_CHANNEL}`);
    } catch (error) {
      lost(error as Error);
      return;
    }
    if (client !== next) return;
    if (failures > 0) logger?.info('PostgreSQL LISTEN connection is back');
    failures = 0;
    listening = true;
    // Appends committed while nobody listened sent notifications nobody got.
    signal.notify();
  }

  function scheduleReconnect(): void {
    const delay = Math.min(5_000, baseDelay * 2 ** failures);
    failures++;
    retryTimer = setTimeout(() => void connect(), delay);
    retryTimer.unref();
  }

  return {
    get listening() {
      return listening;
    },
    start: connect,
    async close() {
      closed = true;
      clearTimeout(retryTimer);
      listening = false;
      const current = client;
      client = undefined;
      await current?.end().catch(() => undefined);
    },
  };
}
