import type { HubLogger } from './hubLogger.ts';

/** What the registry needs from a connection. */
export interface RegisteredConnection {
  readonly token: string;
  tick(now: number): void;
}

/**
 * Connections by secret token, plus the single heartbeat timer that drives every
 * per-connection timeout. The timer runs only while connections exist, so an idle server
 * (and a test that closed every connection) holds no timer at all.
 */
export class ConnectionRegistry<C extends RegisteredConnection> {
  private readonly byToken = new Map<string, C>();
  private heartbeat: NodeJS.Timeout | null = null;

  constructor(
    private readonly intervalMs: number,
    private readonly logger: HubLogger,
  ) {}

  add(connection: C): void {
    this.byToken.set(connection.token, connection);
    if (this.heartbeat === null) {
      this.heartbeat = setInterval(() => this.beat(), this.intervalMs);
      this.heartbeat.unref();
    }
  }

  get(token: string): C | undefined {
    return this.byToken.get(token);
  }

  remove(connection: C): void {
    if (this.byToken.get(connection.token) === connection) this.byToken.delete(connection.token);
    if (this.byToken.size === 0 && this.heartbeat !== null) {
      clearInterval(this.heartbeat);
      this.heartbeat = null;
    }
  }

  get size(): number {
    return this.byToken.size;
  }

  /** A snapshot, safe to iterate while connections remove themselves. */
  all(): C[] {
    return [...this.byToken.values()];
  }

  private beat(): void {
    const now = Date.now();
    for (const connection of this.all()) {
      try {
        connection.tick(now);
      } catch (error) {
        this.logger.error({ err: error }, 'connection heartbeat failed');
      }
    }
  }
}
