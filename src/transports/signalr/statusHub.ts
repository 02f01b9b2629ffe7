import type { Logger } from 'pino';
import type { Principal } from '../../auth/principal.ts';
import { AppError, NotFoundError, ValidationError } from '../../errors.ts';
import { encodePosition, type GlobalPosition } from '../../store/position.ts';
import type { LiveFeed } from '../liveFeed/types.ts';
import type { StreamAccessPolicy } from '../streamAccess.ts';
import type { QuotaLease, UserQuota } from '../userQuota.ts';
import { HubError, type HubCall, type HubConnectionContext, type HubDefinition, type OutgoingFrame } from '@statuscast/signalr-server';
import { subscribeArguments, subscribeFeedArguments, unsubscribeArguments } from './hubArguments.ts';
import { JobLiveStream, LiveStream } from './liveStream.ts';
import type { SignalRMetrics } from './signalrMetrics.ts';
import { FEED_KEY, jobKey, StatusHubSession } from './statusHubSession.ts';
import { feedBulkFrame, feedLiveFrame, jobLiveFrame } from './statusFrames.ts';

export interface StatusHubDeps {
  readonly liveFeed: LiveFeed;
  /** Who may follow what, from where: the same policy as the SSE routes. */
  readonly access: StreamAccessPolicy;
  readonly logger: Logger;
  readonly metrics: SignalRMetrics;
  readonly maxSubscriptionsPerConnection: number;
  /** Per-user bounds shared with the SSE transport. */
  readonly quota: UserQuota;
}

interface Session {
  readonly connection: HubConnectionContext<Principal>;
  readonly subscriptions: StatusHubSession;
  /** The connection's place in its user's quota (`null`: it was refused and is closing). */
  readonly lease: QuotaLease | null;
}

/** Same answer for a missing job and one the caller may not see (contract §2). */
const NOT_FOUND = 'not found';

/**
 * The statuscast hub (contract §5): `Subscribe`, `Unsubscribe` and `SubscribeFeed`, on top of
 * the live feed. Membership comes only from these calls, bounded by the stream token's groups.
 */
export function createStatusHub(deps: StatusHubDeps): HubDefinition<Principal, Session> {
  function openStream<S extends LiveStream>(
    session: Session,
    key: string,
    kind: new (...args: ConstructorParameters<typeof LiveStream>) => S,
    frameOf: (event: Parameters<typeof jobLiveFrame>[0]) => OutgoingFrame,
    call: HubCall,
  ): S {
    // A resubscription replaces the old stream: its place in the quota is freed first.
    session.subscriptions.remove(key);
    const lease = deps.quota.addSubscription(session.connection.identity.userId);
    if (lease === null) {
      throw new HubError(`Subscription limit reached: at most ${deps.quota.limits.maxSubscriptionsPerUser} for one user on this server.`);
    }
    const stream = new kind(session.connection, frameOf, deps.metrics, deps.logger, (ended) => {
      lease.release();
      session.subscriptions.forget(key, ended);
    });
    session.subscriptions.put(key, stream);
    call.afterCompletion(() => stream.release());
    return stream;
  }

  /** The policy's refusals, as the hub answers them: the same words for the same rule as SSE. */
  async function checked<T>(method: string, check: () => T | Promise<T>): Promise<T> {
    try {
      return await check();
    } catch (error) {
      if (error instanceof NotFoundError) throw new HubError(NOT_FOUND);
      if (error instanceof ValidationError) {
        const detail = error.errors.map((e) => `${e.path} ${e.message}`).join('; ') || error.message;
        throw new HubError(`Invalid arguments for '${method}': ${detail}.`);
      }
      if (error instanceof AppError) throw new HubError(error.message);
      throw error;
    }
  }

  async function follow<T>(stream: LiveStream, subscribe: () => Promise<{ close(): void }>, what: T): Promise<void> {
    try {
      stream.attach(await subscribe());
    } catch (error) {
      stream.end();
      deps.logger.error({ err: error, subscription: what }, 'live-feed subscription failed');
      throw new HubError('The subscription could not be started; retry.');
    }
  }

  return {
    methods: {
      /** `Subscribe(job_id, after_revision?)` → `{ job_id, revision }`, after one `timeline.bulk`. */
      async Subscribe(session, args, call) {
        const { jobId, afterRevision: requested } = subscribeArguments(args);
        session.subscriptions.ensureRoomFor(jobKey(jobId));
        const principal = session.connection.identity.user;
        const grant = await checked('Subscribe', () => deps.access.job(principal, jobId));
        const afterRevision = await checked('Subscribe', () => deps.access.jobResume(grant, requested, 'after_revision'));
        const stream = openStream(session, jobKey(jobId), JobLiveStream, jobLiveFrame, call);
        stream.revision = afterRevision ?? 0;
        await follow(stream, () => deps.liveFeed.subscribeJob(jobId, afterRevision, stream, stream.signal), { job_id: jobId });
        return { job_id: jobId, revision: stream.revision };
      },

      /** `Unsubscribe(job_id)`: stops the job's events on this connection; idempotent. */
      Unsubscribe(session, args) {
        session.subscriptions.remove(jobKey(unsubscribeArguments(args).jobId));
        return undefined;
      },

      /** `SubscribeFeed(after_position?)` → `{ position }`: the caller's jobs (admins, auditors: all). */
      async SubscribeFeed(session, args, call) {
        const { after: requested } = subscribeFeedArguments(args);
        const principal = session.connection.identity.user;
        const scope = await checked('SubscribeFeed', () => deps.access.feed(principal));
        const after = await checked('SubscribeFeed', () => deps.access.feedResume(requested, 'after_position'));
        session.subscriptions.ensureRoomFor(FEED_KEY);
        const stream = openStream(session, FEED_KEY, LiveStream, feedLiveFrame, call);
        let head: GlobalPosition | null = after;
        await follow(stream, () => deps.liveFeed.subscribeFeed(scope, after, {
          catchUp(events, reached) {
            head = reached ?? head;
            stream.sendCatchUp(feedBulkFrame(events));
          },
          live: (event) => stream.live(event),
          closed: (reason) => stream.closed(reason),
        }, stream.signal), 'feed');
        if (stream.earlyCloseReason !== null) {
          throw new HubError(`${stream.earlyCloseReason}: reload the job list (GET /jobs) and subscribe from now on`);
        }
        return { position: head === null ? null : encodePosition(head) };
      },
    },

    connected(connection) {
      const subscriptions = new StatusHubSession(deps.maxSubscriptionsPerConnection);
      const lease = deps.quota.openConnection(connection.identity.userId);
      if (lease === null) {
        // The client sees this reason; reconnecting would only be refused again.
        connection.close({
          error: `Too many connections: one user may hold ${deps.quota.limits.maxConnectionsPerUser} on this server; close one first.`,
          allowReconnect: false,
        });
        subscriptions.dispose();
      }
      return { connection, subscriptions, lease };
    },

    disconnected(session) {
      session.subscriptions.dispose();
      session.lease?.release();
    },
  };
}
