import { Router } from 'express';
import type { Authenticator } from '../../auth/authenticator.ts';
import type { Principal } from '../../auth/principal.ts';
import { NotFoundError, ValidationError } from '../../errors.ts';
import type { EventStore } from '../../store/eventStore.ts';
import type { JobDirectory } from '../../store/jobDirectory.ts';
import { type GlobalPosition, comparePositions, decodePosition } from '../../store/position.ts';
import { groupNames } from '../../transports/groups.ts';
import type { SseTransport } from '../../transports/sse/index.ts';
import { authenticate, principal } from '../auth/authenticate.ts';
import { visibleJob } from '../jobAccess.ts';

/**
 * `GET /jobs/{id}/events` and `GET /events` (contract §6). Everything that can be refused
 * is checked here, before the event stream opens, so a bad request gets a problem
 * document instead of a stream.
 */
export function eventsRoutes(deps: {
  authenticator: Authenticator;
  directory: JobDirectory;
  store: EventStore;
  sse: SseTransport;
}): Router {
  const router = Router();
  const auth = authenticate(deps.authenticator, { allowQueryToken: true });

  router.get('/jobs/:jobId/events', auth, async (req, res) => {
    const caller = principal(res);
    const jobId = String(req.params['jobId']);
    const { owner } = await visibleJob(deps.directory, caller, jobId);
    requireGroup(caller, groupNames.job(jobId, owner));
    const resume = resumePoint(req.get('last-event-id'), req.query['after']);
    let afterRevision: number | null = null;
    if (resume !== undefined) {
      if (!/^(0|[1-9][0-9]{0,14})$/.test(resume.value)) {
        throw new ValidationError('The resume point must be a revision.', [
          { path: resume.field, message: 'must be a non-negative integer revision' },
        ]);
      }
      afterRevision = Number(resume.value);
    }
    await deps.sse.streamJob(req, res, { principal: caller, jobId, afterRevision });
  });

  router.get('/events', auth, async (req, res) => {
    const caller = principal(res);
    requireGroup(caller, groupNames.user(caller.userId));
    const resume = resumePoint(req.get('last-event-id'), req.query['after']);
    let after: GlobalPosition | null = null;
    if (resume !== undefined) {
      const decoded = decodePosition(resume.value);
      if (!decoded) {
        throw new ValidationError('The resume point must be a store position.', [
          { path: resume.field, message: 'must be a position from an earlier event id or GET /jobs' },
        ]);
      }
      const head = await deps.store.headPosition();
      // A position past the head was not issued by this store; resuming there would skip events.
      if (comparePositions(decoded, head ?? { commit: 0n, prepare: 0n }) > 0) {
        throw new ValidationError('The resume point is beyond the end of the store.', [
          { path: resume.field, message: 'is not a position this store has reached' },
        ]);
      }
      after = decoded;
    }
    await deps.sse.streamFeed(req, res, { principal: caller, after });
  });

  return router;
}

/** `Last-Event-ID` (a browser's reconnect) wins over `?after=` (the page's first connect). */
function resumePoint(header: string | undefined, query: unknown): { value: string; field: string } | undefined {
  if (header !== undefined && header.trim() !== '') return { value: header.trim(), field: 'Last-Event-ID' };
  if (query === undefined) return undefined;
  if (typeof query !== 'string') {
    throw new ValidationError('Give "after" once.', [{ path: 'after', message: 'must be a single value' }]);
  }
  return { value: query, field: 'after' };
}

/** A stream token only opens the streams negotiate granted it. */
function requireGroup(caller: Principal, group: string): void {
  if (caller.groups !== null && !caller.groups.includes(group)) {
    throw new NotFoundError('This stream is not visible with the given token.');
  }
}
