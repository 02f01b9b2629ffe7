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
 * plus the group bookkeeping that routes REST sends to connections. Its reading of the service
 * (Azure/azure-signalr docs/advanced-topics/group-management.md):
 * - a user→group membership (`PUT users/{user}/groups/{group}?ttl=`) puts the user's open
 *   connections into the group and every connection the user opens while it lasts; the TTL
 *   governs only that mapping, so a connection stays in its groups after the TTL ran out;
 * - removing the membership (`DELETE users/{user}/groups/{group}`) also takes the user's
 *   connections out of the group;
 * - a connection is closed when its client token expires only if the token asks for it with
 *   `asrs.s.coae` = "true" and `asrs.s.aeo` = the expiry in Unix seconds (azure-signalr #1954,
 *   PR #2036: the runtime scans connections every second and closes expired ones in a way that
 *   allows reconnecting); otherwise the connection outlives `exp`.
 * Clients are listen-only (no hub methods).
 */
export class StandInClients {
  readonly hubServer: HubServer;
  readonly tokenChecks: ClientTokenCheck[] = [];
  readonly delivered: Delivered[] = [];
  /** user → group → membership end (ms since the epoch; Infinity without a TTL). */
  readonly memberships = new Map<string, Map<string, number>>();
  readonly #connections = new Map<string, Set<HubConnectionContext<JWTPayload>>>();
  /** The groups each open connection is in. */
  readonly #groupsOf = new Map<HubConnectionContext<JWTPayload>, Set<string>>();

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
        const closeOnExpiry = claims?.['asrs.s.coae'];
        const expiresOn = claims?.['asrs.s.aeo'];
        if (closeOnExpiry !== undefined && closeOnExpiry !== 'true') problems.push(`asrs.s.coae must be "true", got ${JSON.stringify(closeOnExpiry)}`);
        if (closeOnExpiry !== undefined && !/^\d+$/.test(String(expiresOn))) problems.push(`asrs.s.aeo must be Unix seconds, got ${JSON.stringify(expiresOn)}`);
        this.tokenChecks.push({ claims, source, problems });
        if (problems.length > 0 || typeof nameid !== 'string') return null;
        const expiresAt = closeOnExpiry === 'true' ? new Date(Number(expiresOn) * 1000) : null;
        return { user: claims!, userId: nameid, expiresAt };
      },
      hub: {
        methods: {},
        connected: (connection) => {
          const userId = connection.identity.userId;
          let set = this.#connections.get(userId);
          if (!set) this.#connections.set(userId, (set = new Set()));
          set.add(connection);
          // Membership is fixed now, from the user's mappings that have not run out.
          const now = Date.now();
          const groups = [...(this.memberships.get(userId) ?? [])].filter(([, until]) => until > now).map(([group]) => group);
          this.#groupsOf.set(connection, new Set(groups));
          return connection;
        },
        disconnected: (connection) => {
          this.#connections.get(connection.identity.userId)?.delete(connection);
          this.#groupsOf.delete(connection);
        },
      },
    });
  }

  /** Connections open for `userId` now. */
  connectionsOf(userId: string): number {
    return [...(this.#connections.get(userId) ?? [])].filter((c) => c.isOpen).length;
  }

  /** The groups `userId`'s open connections are in now. */
  groupsOfConnections(userId: string): string[][] {
    return [...(this.#connections.get(userId) ?? [])].filter((c) => c.isOpen).map((c) => [...(this.#groupsOf.get(c) ?? [])]);
  }

  addUserToGroup(user: string, group: string, ttlSeconds: number | null): void {
    let groups = this.memberships.get(user);
    if (!groups) this.memberships.set(user, (groups = new Map()));
    groups.set(group, ttlSeconds === null ? Number.POSITIVE_INFINITY : Date.now() + ttlSeconds * 1000);
    for (const connection of this.#connections.get(user) ?? []) this.#groupsOf.get(connection)?.add(group);
  }

  removeUserFromGroup(user: string, group: string): void {
    this.memberships.get(user)?.delete(group);
    for (const connection of this.#connections.get(user) ?? []) this.#groupsOf.get(connection)?.delete(group);
  }

  /** Delivers one invocation to every open connection in `group`. */
  sendToGroup(group: string, target: string, args: readonly unknown[]): void {
    const text = `${JSON.stringify({ type: 1, target, arguments: args })}\u001e`;
    for (const [connection, groups] of this.#groupsOf) {
      if (!connection.isOpen || !groups.has(group)) continue;
      connection.send({ text, messageCount: 1, targets: [target] });
      this.delivered.push({ connectionId: connection.connectionId, userId: connection.identity.userId, group, target });
    }
  }
}
