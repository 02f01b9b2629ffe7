import { Server, ServerCredentials } from '@grpc/grpc-js';
import serverFeaturesGrpc from '@eventstore/db-client/generated/serverfeatures_grpc_pb.js';
import streamsGrpc from '@eventstore/db-client/generated/streams_grpc_pb.js';
import { type AppendFault, AppendFaults } from './appendFaults.ts';
import { appendHandler, batchAppendHandler, DEFAULT_MAX_APPEND_SIZE } from './appendHandlers.ts';
import { type DropStatus, SubscriptionRegistry, type SubscriptionRequest } from './allSubscription.ts';
import { type FollowerView, readHandler } from './readHandler.ts';
import { serverFeaturesHandler } from './serverFeatures.ts';
import { compareLogPositions, FIRST_LOG_POSITION, type LogPosition, StandInLog } from './standInLog.ts';

export type { DropStatus, LogPosition, SubscriptionRequest };
export { FIRST_LOG_POSITION };

export interface EventStoreDbStandInOptions {
  /**
   * Whether `ServerFeatures` advertises `Streams.BatchAppend`, which makes the client append
   * through it (as against any current server). `false` behaves like an old server and the
   * client falls back to the client-streaming `Streams.Append`. Defaults to true.
   */
  readonly batchAppend?: boolean;
  /**
   * Seeds the log with system events (`$`-prefixed streams and types) the way a fresh server
   * has them, so adapters must skip what is not theirs. Defaults to true.
   */
  readonly systemEvents?: boolean;
  /** The server's `MaxAppendSize` in bytes. Defaults to 1 MiB, the server's default. */
  readonly maxAppendSize?: number;
}

/**
 * A STAND-IN for an EventStoreDB/KurrentDB node, for tests only: a gRPC server on
 * 127.0.0.1 (insecure) implementing, with the service definitions shipped inside
 * `@eventstore/db-client`, the subset of the protocol the statuscast adapter and the client
 * use: `ServerFeatures.GetSupportedMethods`, `Streams.Append`, `Streams.BatchAppend` and
 * `Streams.Read` (stream reads, `$all` reads and `$all` subscriptions), hard deletes
 * (tombstones) and the maximum append size. It is not EventStoreDB: no persistence, no
 * projections, no ACLs, no soft deletes, no truncation by stream metadata (metadata streams
 * are stored like any other), no persistent subscriptions. See docs/eventstoredb.md for what only a real server verifies.
 */
export interface EventStoreDbStandIn {
  /** `esdb://127.0.0.1:<port>?tls=false`. */
  readonly connectionString: string;
  readonly port: number;
  /** Every `$all` subscription the stand-in was asked to open, in order. */
  readonly subscriptionRequests: readonly SubscriptionRequest[];
  /** `$all` subscriptions currently open. */
  readonly activeSubscriptions: number;
  /** How often a subscription found its client not reading and waited for gRPC flow control. */
  readonly subscriptionBackpressureWaits: number;
  /** Appends a system event (type `$statsCollected` to a `$stats-…` stream), as a server does on its own. */
  appendSystemEvent(): LogPosition;
  /**
   * The next append to `stream` is answered `Timeout`, as a commit the cluster could not
   * confirm in time; with `written: true` the events were written all the same.
   */
  failNextAppend(stream: string, fault?: AppendFault): void;
  /**
   * From now on reads that do not require the leader see the log as it is now, as from a
   * follower that stopped replicating (see `FollowerView`); `catchUpFollower` ends it.
   */
  lagFollower(): void;
  catchUpFollower(): void;
  /** Hard-deletes a stream: a `$streamDeleted` tombstone in `$all`, and the stream can never be read or appended again. */
  tombstoneStream(stream: string): LogPosition;
  /** Ends every open `$all` subscription from the server side; returns how many. */
  dropSubscriptions(dropStatus?: DropStatus): number;
  /** The node goes away: every call ends and the port refuses connections. Keeps the data. */
  stop(): Promise<void>;
  /** Comes back on the same port with the same data. */
  start(): Promise<void>;
}

export async function startEventStoreDbStandIn(options: EventStoreDbStandInOptions = {}): Promise<EventStoreDbStandIn> {
  const log = new StandInLog();
  const subscriptions = new SubscriptionRegistry();
  const faults = new AppendFaults();
  let replicatedUpTo: LogPosition | null | undefined;
  const follower: FollowerView = {
    visible(call) {
      const requiresLeader = call.metadata.get('requires-leader')[0] === 'true';
      const limit = replicatedUpTo;
      if (requiresLeader || limit === undefined) return () => true;
      return (event) => limit !== null && compareLogPositions(event.position, limit) <= 0;
    },
  };
  if (options.systemEvents ?? true) seedSystemEvents(log);

  let server: Server | undefined;
  let port = 0;

  async function listen(): Promise<void> {
    const next = new Server();
    next.addService(streamsGrpc.StreamsService, {
      read: readHandler(log, subscriptions, follower),
      append: appendHandler(log, faults, options.maxAppendSize ?? DEFAULT_MAX_APPEND_SIZE),
      batchAppend: batchAppendHandler(log, faults, options.maxAppendSize ?? DEFAULT_MAX_APPEND_SIZE),
    });
    next.addService(serverFeaturesGrpc.ServerFeaturesService, {
      getSupportedMethods: serverFeaturesHandler({ batchAppend: options.batchAppend ?? true }),
    });
    port = await new Promise<number>((resolve, reject) => {
      next.bindAsync(`127.0.0.1:${port}`, ServerCredentials.createInsecure(), (error, bound) =>
        error ? reject(error) : resolve(bound),
      );
    });
    server = next;
  }

  await listen();
  let systemEventCount = 0;
  return {
    get connectionString() {
      return `esdb://127.0.0.1:${port}?tls=false`;
    },
    get port() {
      return port;
    },
    subscriptionRequests: subscriptions.requests,
    get activeSubscriptions() {
      return subscriptions.activeCount;
    },
    get subscriptionBackpressureWaits() {
      return subscriptions.backpressureWaits;
    },
    appendSystemEvent() {
      systemEventCount += 1;
      const outcome = log.append(`$stats-127.0.0.1:${port}`, 'any', [
        systemEvent('$statsCollected', { sample: systemEventCount }),
      ]);
      if (outcome.kind === 'wrongExpectedVersion' || outcome.kind === 'streamDeleted' || !outcome.position) throw new Error('system append failed');
      return outcome.position;
    },
    failNextAppend: (stream, fault = {}) => faults.add(stream, fault),
    tombstoneStream: (stream) => log.tombstone(stream),
    lagFollower() {
      replicatedUpTo = log.events.at(-1)?.position ?? null;
    },
    catchUpFollower() {
      replicatedUpTo = undefined;
    },
    dropSubscriptions: (dropStatus = {}) => subscriptions.dropAll(dropStatus),
    async stop() {
      const current = server;
      server = undefined;
      if (!current) return;
      subscriptions.dropAll({ details: 'stand-in stopped' });
      current.forceShutdown();
    },
    async start() {
      if (!server) await listen();
    },
  };
}

/** What a fresh node writes before any client does: users, settings, scavenge bookkeeping. */
function seedSystemEvents(log: StandInLog): void {
  log.append('$users', 'no_stream', [systemEvent('$UserCreated', { loginName: 'admin' })]);
  log.append('$user-admin', 'no_stream', [systemEvent('$user', { loginName: 'admin', groups: ['$admins'] })]);
  log.append('$settings', 'no_stream', [systemEvent('$settings', { $userStreamAcl: {} })]);
}

function systemEvent(type: string, data: Record<string, unknown>) {
  return {
    id: crypto.randomUUID(),
    type,
    contentType: 'application/json',
    data: Buffer.from(JSON.stringify(data)),
    metadata: new Uint8Array(),
  };
}
