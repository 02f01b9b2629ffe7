import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Authenticator } from '../../../../src/auth/authenticator.ts';
import { UnauthorizedError } from '../../../../src/errors.ts';
import { createMetrics } from '../../../../src/observability/metrics.ts';
import type { EventStore } from '../../../../src/store/eventStore.ts';
import type { JobDirectory } from '../../../../src/store/jobDirectory.ts';
import { position } from '../../../../src/store/position.ts';
import type { FeedSink, JobSink, LiveEvent, LiveFeed, Subscription } from '../../../../src/transports/liveFeed/types.ts';
import { createStreamAccessPolicy, type FeedScope, type StreamAccessPolicy } from '../../../../src/transports/streamAccess.ts';
import { createSignalRHub, type SignalRHub, type SignalRHubOptions } from '../../../../src/transports/signalr/index.ts';
import { testLogger } from '../../../../packages/signalr-server/test/support/testLogger.ts';

/**
 * Test doubles for the statuscast hub's dependencies, for behaviour the real live feed only
 * shows under rare timing (live events before the catch-up resolves, the feed giving up).
 */

/** A `LiveEvent` as the real feed prepares it, for job `jobId` at `revision`. */
export function liveEventDouble(jobId: string, revision: number, owner = 'alice'): LiveEvent {
  const entry = { revision, stage: 's', state: 'running' as const, artifact: null, message: `r${revision}`, cycle: null, progress: null, details: {}, ts: '2026-11-20T10:00:00.000Z' };
  return {
    jobId,
    owner,
    revision,
    position: position(BigInt(revision)),
    positionText: String(revision),
    entry,
    latest: { job_id: jobId, ...entry, revision },
    trace: undefined,
    timelineEventJson: JSON.stringify({ job_id: jobId, event: entry }),
    statusLatestJson: JSON.stringify({ job_id: jobId, ...entry }),
    recordedAtMs: Date.now(),
  };
}

/** Scripted live feed: each call runs the script the test installed, and closes are counted. */
export class LiveFeedDouble implements LiveFeed {
  jobScript: (jobId: string, after: number | null, sink: JobSink) => Promise<void> = async (jobId, after, sink) => {
    sink.catchUp({ jobId, events: [], fromRevision: (after ?? 0) + 1, toRevision: after ?? 0 });
  };
  feedScript: (sink: FeedSink) => Promise<void> = async (sink) => sink.catchUp([], null);
  readonly sinks: JobSink[] = [];
  open = 0;
  closes = 0;

  get subscriberCount(): number {
    return this.open;
  }

  async subscribeJob(jobId: string, after: number | null, sink: JobSink): Promise<Subscription> {
    this.sinks.push(sink);
    await this.jobScript(jobId, after, sink);
    return this.subscription();
  }

  async subscribeFeed(_scope: FeedScope, _after: unknown, sink: FeedSink): Promise<Subscription> {
    await this.feedScript(sink);
    return this.subscription();
  }

  private subscription(): Subscription {
    this.open++;
    let closed = false;
    return {
      close: () => {
        if (closed) return;
        closed = true;
        this.open--;
        this.closes++;
      },
    };
  }
}

/**
 * Tokens are JSON principals: `{"userId":"alice","roles":["admin"],"groups":[...]}`.
 * Anything else is unauthorized.
 */
export const authenticatorDouble: Authenticator = {
  async verifyBearer(token) {
    try {
      const value = JSON.parse(token) as { userId: string; roles?: string[]; groups?: string[] | null };
      return { userId: value.userId, roles: new Set(value.roles ?? []), tokenKind: value.groups ? 'stream' : 'user', groups: value.groups ?? null, expiresAt: null };
    } catch {
      throw new UnauthorizedError('bad token');
    }
  },
  verifyQueryToken(token) {
    return this.verifyBearer(token);
  },
};

export const principalToken = (userId: string, extra: { roles?: string[]; groups?: string[] } = {}) => JSON.stringify({ userId, ...extra });

export function jobDirectoryDouble(owners: Record<string, string>): JobDirectory {
  return { ownerOf: async (jobId) => owners[jobId] ?? null, remember: () => undefined };
}

/**
 * The stream-access policy over the directory double and a store whose jobs all stand at
 * revision 1,000 (and whose head is far ahead), so that resume points in these tests are
 * always within reach.
 */
export function accessDouble(owners: Record<string, string>): StreamAccessPolicy {
  const store = {
    streamRevision: async () => 1_000,
    headPosition: async () => ({ commit: 1n << 40n, prepare: 1n << 40n }),
  } as unknown as EventStore;
  return createStreamAccessPolicy({ directory: jobDirectoryDouble(owners), store });
}

/** `createSignalRHub` on a bare HTTP server, wired to the doubles. */
export async function startHubWithDoubles(liveFeed: LiveFeed, owners: Record<string, string>, extra: Partial<SignalRHubOptions> = {}) {
  const hub: SignalRHub = createSignalRHub({
    authenticator: authenticatorDouble,
    liveFeed,
    access: accessDouble(owners),
    logger: testLogger(),
    metrics: createMetrics({ defaultMetrics: false }),
    limits: { shutdownTimeoutMs: 300 },
    ...extra,
  });
  const http = createServer((req, res) => hub.handleRequest(req, res, () => {
    res.statusCode = 404;
    res.end();
  }));
  hub.attach(http);
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  return {
    hub,
    url: `http://127.0.0.1:${(http.address() as AddressInfo).port}/hubs/status`,
    async stop() {
      await hub.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
