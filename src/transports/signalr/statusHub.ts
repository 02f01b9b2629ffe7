import type { Logger } from 'pino';
import { canSeeJob, type Principal } from '../../auth/principal.ts';
import type { JobDirectory } from '../../store/jobDirectory.ts';
import { encodePosition, type GlobalPosition } from '../../store/position.ts';
import { groupNames } from '../groups.ts';
import type { LiveFeed } from '../liveFeed/types.ts';
import { HubError, type HubCall, type HubConnectionContext, type HubDefinition, type OutgoingFrame } from '@statuscast/signalr-server';
import { subscribeArguments, subscribeFeedArguments, unsubscribeArguments } from './hubArguments.ts';
import { LiveStream } from './liveStream.ts';
import type { SignalRMetrics } from './signalrMetrics.ts';
import { FEED_KEY, jobKey, StatusHubSession } from './statusHubSession.ts';
import { feedBulkFrame, feedLiveFrame, jobBulkFrame, jobLiveFrame } from './statusFrames.ts';

export interface StatusHubDeps {
  readonly liveFeed: LiveFeed;
  readonly jobDirectory: JobDirectory;
  readonly logger: Logger;
  readonly metrics: SignalRMetrics;
  readonly maxSubscriptionsPerConnection: number;
}

interface Session {
  readonly connection: HubConnectionContext<Principal>;
  readonly subscriptions: StatusHubSession;
}

/** Same answer for a missing job and one the caller may not see (contract §2). */
const NOT_FOUND = 'not found';

/**
 * The statuscast hub (contract §5): `Subscribe`, `Unsubscribe` and `SubscribeFeed`, on top of
 * the live feed. Membership comes only from these calls, bounded by the stream token's groups.
 */
export function createStatusHub(deps: StatusHubDeps): HubDefinition<Principal, Session> {
  function openStream(session: Session, key: string, frameOf: (event: Parameters<typeof jobLiveFrame>[0]) => OutgoingFrame, call: HubCall): LiveStream {
    const stream = new LiveStream(session.connection, frameOf, deps.metrics, deps.logger, (ended) => session.subscriptions.forget(key, ended));
    session.subscriptions.put(key, stream);
    call.afterCompletion(() => stream.release());
    return stream;
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
        const { jobId, afterRevision } = subscribeArguments(args);
        session.subscriptions.ensureRoomFor(jobKey(jobId));
        const owner = await deps.jobDirectory.ownerOf(jobId);
        const principal = session.connection.identity.user;
        if (owner === null || !mayFollowJob(principal, jobId, owner)) throw new HubError(NOT_FOUND);
        const stream = openStream(session, jobKey(jobId), jobLiveFrame, call);
        let revision = afterRevision ?? 0;
        await follow(stream, () => deps.liveFeed.subscribeJob(jobId, afterRevision, {
          catchUp(catchUp) {
            revision = catchUp.toRevision;
            stream.sendCatchUp(jobBulkFrame(catchUp));
          },
          live: (event) => stream.live(event),
          closed: (reason) => stream.closed(reason),
        }), { job_id: jobId });
        return { job_id: jobId, revision };
      },

      /** `Unsubscribe(job_id)`: stops the job's events on this connection; idempotent. */
      Unsubscribe(session, args) {
        session.subscriptions.remove(jobKey(unsubscribeArguments(args).jobId));
        return undefined;
      },

      /** `SubscribeFeed(after_position?)` → `{ position }`: the caller's jobs (admins, auditors: all). */
      async SubscribeFeed(session, args, call) {
        const { after } = subscribeFeedArguments(args);
        const principal = session.connection.identity.user;
        if (principal.groups !== null && !principal.groups.includes(groupNames.user(principal.userId))) {
          throw new HubError('forbidden: the access token does not cover the feed');
        }
        const stream = openStream(session, FEED_KEY, feedLiveFrame, call);
        let head: GlobalPosition | null = after;
        await follow(stream, () => deps.liveFeed.subscribeFeed(principal, after, {
          catchUp(events, reached) {
            head = reached ?? head;
            stream.sendCatchUp(feedBulkFrame(events));
          },
          live: (event) => stream.live(event),
          closed: (reason) => stream.closed(reason),
        }), 'feed');
        if (stream.earlyCloseReason !== null) {
          throw new HubError(`${stream.earlyCloseReason}: reload the job list (GET /jobs) and subscribe from now on`);
        }
        return { position: head === null ? null : encodePosition(head) };
      },
    },

    connected(connection) {
      return { connection, subscriptions: new StatusHubSession(deps.maxSubscriptionsPerConnection) };
    },

    disconnected(session) {
      session.subscriptions.dispose();
    },
  };
}

/**
 * Visibility (owner, admin, auditor) and, for stream tokens, the job's group among the
 * token's groups: negotiate mints the job's group for admins and auditors too.
 */
export function mayFollowJob(principal: Principal, jobId: string, owner: string): boolean {
  if (!canSeeJob(principal, owner)) return false;
  return principal.groups === null || principal.groups.includes(groupNames.job(jobId, owner));
}
