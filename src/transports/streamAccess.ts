import { type Principal, canSeeJob, seesAllJobs } from '../auth/principal.ts';
import { jobStreamName } from '../domain/job/events.ts';
import { isValidJobId } from '../domain/job/jobId.ts';
import { NotFoundError, ValidationError } from '../errors.ts';
import type { EventStore } from '../store/eventStore.ts';
import type { JobDirectory } from '../store/jobDirectory.ts';
import { type GlobalPosition, comparePositions, decodePosition } from '../store/position.ts';
import { groupNames } from './groups.ts';

/** Which jobs a multi-job feed carries: every job, or the jobs one user owns. */
export type FeedScope = { readonly kind: 'all' } | { readonly kind: 'owner'; readonly userId: string };

export interface JobStreamGrant {
  readonly jobId: string;
  readonly owner: string;
}

/**
 * The one policy for who may follow which stream, and from where (contract §2, §5, §6).
 * The SSE routes, the SignalR hub, negotiate and the read routes all ask it, so the
 * transports cannot drift apart; `test/security/` runs the same table against each.
 *
 * - A user token sees its own jobs; admins and auditors see every job.
 * - A stream token sees exactly the groups negotiate wrote into it, nothing else: roles are
 *   never taken from a stream token, so a leaked URL opens one stream until it expires.
 * - Whatever a caller may not see answers "not found", never "forbidden" (contract §2).
 * - A resume point must be one the store has reached: a client that claims to have seen more
 *   than exists would otherwise silently wait for revisions (or positions) it already "has".
 */
export interface StreamAccessPolicy {
  /** The job, if `principal` may follow it; `ValidationError` for a malformed id, `NotFoundError` otherwise. */
  job(principal: Principal, jobId: string): Promise<JobStreamGrant>;
  /** The feed `principal` may follow; `NotFoundError` when its token does not cover a feed. */
  feed(principal: Principal): FeedScope;
  /**
   * Checks a job resume point (`null`: the whole timeline) against the job's head. Beyond it:
   * `ValidationError` naming `field`.
   */
  jobResume(grant: JobStreamGrant, afterRevision: number | null, field: string): Promise<number | null>;
  /** Checks a feed resume position (`null`: from now on) against the store's head. */
  feedResume(after: GlobalPosition | null, field: string): Promise<GlobalPosition | null>;
}

export function createStreamAccessPolicy(deps: { directory: JobDirectory; store: EventStore }): StreamAccessPolicy {
  return {
    async job(principal, jobId) {
      checkJobId(jobId);
      const owner = await deps.directory.ownerOf(jobId);
      if (owner === null || !mayReadJob(principal, jobId, owner)) throw new NotFoundError(`No job "${jobId}" is visible to you.`);
      return { jobId, owner };
    },

    feed(principal) {
      const scope = feedScopeOf(principal);
      if (scope === null) throw new NotFoundError('This token does not open a feed; negotiate without a job_id for one.');
      return scope;
    },

    async jobResume(grant, afterRevision, field) {
      if (afterRevision === null || afterRevision === 0) return afterRevision;
      const head = (await deps.store.streamRevision(jobStreamName(grant.jobId))) ?? 0;
      if (afterRevision > head) {
        throw new ValidationError('The resume point is beyond the newest revision of the job.', [
          { path: field, message: `must be at most ${head}, the job's newest revision` },
        ]);
      }
      return afterRevision;
    },

    async feedResume(after, field) {
      if (after === null) return null;
      const head = await deps.store.headPosition();
      // A position past the head was not issued by this store; resuming there would skip events.
      if (comparePositions(after, head ?? { commit: 0n, prepare: 0n }) > 0) {
        throw new ValidationError('The resume point is beyond the end of the store.', [
          { path: field, message: 'is not a position this store has reached' },
        ]);
      }
      return after;
    },
  };
}

/**
 * Whether `principal` may read a job: by its stream token's groups, or as the owner, an
 * admin or an auditor. Also the rule of the read routes (`/jobs/{id}`, history, negotiate).
 */
export function mayReadJob(principal: Principal, jobId: string, owner: string): boolean {
  if (principal.tokenKind === 'stream') return principal.groups?.includes(groupNames.job(jobId, owner)) ?? false;
  return canSeeJob(principal, owner);
}

/** The feed a principal may follow, or `null` (a stream token minted for a job). */
export function feedScopeOf(principal: Principal): FeedScope | null {
  if (principal.tokenKind === 'stream') {
    const groups = principal.groups ?? [];
    if (groups.includes(groupNames.allJobs)) return { kind: 'all' };
    if (groups.includes(groupNames.user(principal.userId))) return { kind: 'owner', userId: principal.userId };
    return null;
  }
  return seesAllJobs(principal) ? { kind: 'all' } : { kind: 'owner', userId: principal.userId };
}

/** The groups negotiate writes into a stream token: the job's group, or the caller's feed. */
export function groupsToGrant(principal: Principal, job: JobStreamGrant | null): string[] {
  if (job !== null) return [groupNames.job(job.jobId, job.owner)];
  const scope = feedScopeOf(principal);
  const groups = [groupNames.user(principal.userId)];
  if (scope?.kind === 'all') groups.push(groupNames.allJobs);
  return groups;
}

/** The groups an event of `jobId` is delivered to (the Azure publisher sends to each). */
export function groupsOfEvent(jobId: string, owner: string): { readonly job: string; readonly user: string } {
  return { job: groupNames.job(jobId, owner), user: groupNames.user(owner) };
}

/** Rejects ids that are not job ids, including `.` and `..`, which would turn a stream URL into another route. */
export function checkJobId(jobId: string): void {
  if (!isValidJobId(jobId)) {
    throw new ValidationError('The job id is malformed.', [
      { path: 'job_id', message: 'must be 1..128 characters of [A-Za-z0-9._:-], and not "." or ".."' },
    ]);
  }
}

/** Parses a revision given as text (`Last-Event-ID`, `?after=`). */
export function parseRevision(text: string, field: string): number {
  if (!/^(0|[1-9][0-9]{0,14})$/.test(text)) {
    throw new ValidationError('The resume point must be a revision.', [{ path: field, message: 'must be a non-negative integer revision' }]);
  }
  return Number(text);
}

/** Parses a store position given as text (`Last-Event-ID`, `?after=`, `SubscribeFeed`'s argument). */
export function parsePosition(text: string, field: string): GlobalPosition {
  const decoded = decodePosition(text);
  if (!decoded) {
    throw new ValidationError('The resume point must be a store position.', [
      { path: field, message: 'must be a position from an earlier event id or GET /jobs' },
    ]);
  }
  return decoded;
}
