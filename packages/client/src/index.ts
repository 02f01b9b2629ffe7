export { followJob, type FollowOptions, type JobFollower, type JobFollowState, type JobUpdate } from './followJob.ts';
export { followJobs, type FeedFollower, type FeedFollowState, type FeedUpdate, type FollowJobsOptions, type FollowedJob } from './followJobs.ts';
export type { ConnectionState, ConnectionStatus, TransportName } from './connectionState.ts';
export type { TransportOption } from './liveConnection.ts';
export type { GetToken } from './api.ts';
export type { ClientLog } from './transports/signalrLink.ts';
export { StatuscastError, type StatuscastErrorKind } from './errors.ts';
export { RECONNECT_DELAYS_MS } from './backoff.ts';
export {
  TERMINAL_STATES,
  type JobMeta,
  type JobSnapshot,
  type JobState,
  type JobSummary,
  type LatestStatus,
  type TimelineEntry,
} from './wire.ts';
