import { Router } from 'express';
import type { Authenticator } from '../../auth/authenticator.ts';
import { ValidationError } from '../../errors.ts';
import type { SseTransport } from '../../transports/sse/index.ts';
import { type StreamAccessPolicy, parsePosition, parseRevision } from '../../transports/streamAccess.ts';
import { authenticate, principal } from '../auth/authenticate.ts';

/**
 * `GET /jobs/{id}/events` and `GET /events` (contract §6). Everything that can be refused
 * is checked here, by the stream-access policy the hub shares, before the event stream
 * opens, so a bad request gets a problem document instead of a stream.
 */
export function eventsRoutes(deps: { authenticator: Authenticator; access: StreamAccessPolicy; sse: SseTransport }): Router {
  const router = Router();
  const auth = authenticate(deps.authenticator, { acceptStreamTokens: true });

  router.get('/jobs/:jobId/events', auth, async (req, res) => {
    const caller = principal(res);
    const grant = await deps.access.job(caller, String(req.params['jobId']));
    const resume = resumePoint(req.get('last-event-id'), req.query['after']);
    const afterRevision = await deps.access.jobResume(grant, resume ? parseRevision(resume.value, resume.field) : null, resume?.field ?? 'after');
    await deps.sse.streamJob(req, res, { principal: caller, jobId: grant.jobId, afterRevision });
  });

  router.get('/events', auth, async (req, res) => {
    const caller = principal(res);
    const scope = deps.access.feed(caller);
    const resume = resumePoint(req.get('last-event-id'), req.query['after']);
    const after = await deps.access.feedResume(resume ? parsePosition(resume.value, resume.field) : null, resume?.field ?? 'after');
    await deps.sse.streamFeed(req, res, { principal: caller, scope, after });
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
