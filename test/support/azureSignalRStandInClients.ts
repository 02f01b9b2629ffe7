import type { JWTPayload } from 'jose';
import { pino } from 'pino';
import { createHubServer, type HubConnectionContext, type HubServer } from '@statuscast/signalr-server';
import { verifyServiceToken } from './azureSignalRStandInRest.ts';

/** A client token the stand-in's client endpoint was shown, with what it found wrong. */
export interface ClientTokenCheck {
  readonly claims: JWTPayload | undefined;
  readonly source: 'header' | 'query';
  readonly problems: readonly string[];
}

/** What a connected client received through the stand-in, in order. */
export interface Delivered {
  readonly connectionId: string;
  readonly userId: string;
  readonly group: string;
  readonly target: string;
}

/**
 * The client side of the stand-in: the service's `/client/?hub=…` endpoint, played by
 * statuscast's own SignalR hub server (the official client runs the real protocol against it),
 * plus the user-group bookkeeping that routes REST sends to connections. Its reading of the
 * service: a group send reaches every connection whose user (`nameid`) was added to the group
 * and whose membership TTL has not run out. Clients are listen-only (no hub methods).
 */
export class StandInClients {
  readonly hubServer: HubServer;
  readonly tokenChecks: ClientTokenCheck[] = [];
  readonly delivered: Delivered[] = [];
  /** user → group → membership end (ms since the epoch; Infinity without a TTL). */
  readonly memberships = new Map<string, Map<string, number>>();
  readonly #connections = new Map<string, Set<HubConnectionContext<JWTPayload>>>();

  constructor(
    private readonly accessKey: string,
    /** The audience a client token must carry: `http://<host, no port>/client/?hub=<hub>`. */
    readonly clientAudience: string,
  ) {
    this.hubServer = createHubServer<JWTPayload, HubConnectionContext<JWTPayload>>({
      path: '/client',
      logger: pino({ level: 'silent' }),
      limits: { shutdownTimeoutMs: 500 },
      authenticate: async (token, source) => {
        const problems: string[] = [];
        const claims = await verifyServiceToken(token, this.accessKey, this.clientAudience, problems);
        const nameid = claims?.['nameid'];
        if (claims && typeof nameid !== 'string') problems.push('client token without a nameid claim');
        this.tokenChecks.push({ claims, source, problems });
        if (problems.length > 0 || typeof nameid !== 'string') return null;
        return { user: claims!, userId: nameid, expiresAt: null };
      },
      hub: {
        methods: {},
        connected: (connection) => {
          let set = this.#connections.get(connection.identity.userId);
          if (!set) this.#connections.set(connection.identity.userId, (set = new Set()));
          set.add(connection);
          return connection;
        },
        disconnected: (connection) => {
          this.#connections.get(connection.identity.userId)?.delete(connection);
        },
      },
    });
  }

  /** Connections open for `userId` now. */
  connectionsOf(userId: string): number {
    return [...(this.#connections.get(userId) ?? [])].filter((c) => c.isOpen).length;
  }

  addUserToGroup(user: string, group: string, ttlSeconds: number | null): void {
    let groups = this.memberships.get(user);
    if (!groups) this.memberships.set(user, (groups = new Map()));
    groups.set(group, ttlSeconds === null ? Number.POSITIVE_INFINITY : Date.now() + ttlSeconds * 1000);
  }

  /** Delivers one invocation to every connection of every current member of `group`. */
  sendToGroup(group: string, target: string, args: readonly unknown[]): void {
    const now = Date.now();
    const text = `${JSON.stringify({ type: 1, target, arguments: args })}\u001e`;
    for (const [user, groups] of this.memberships) {
      const until = groups.get(group);
      if (until === undefined || until <= now) continue;
      for (const connection of this.#connections.get(user) ?? []) {
        if (!connection.isOpen) continue;
        connection.send({ text, messageCount: 1, targets: [target] });
        this.delivered.push({ connectionId: connection.connectionId, userId: user, group, target });
      }
    }
  }
}
