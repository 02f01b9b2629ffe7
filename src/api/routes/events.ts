import type { IncomingMessage, ServerResponse } from 'node:http';
import { Router } from 'express';
import type { Authenticator } from '../../auth/authenticator.ts';
import { ValidationError } from '../../errors.ts';
import type { SseTransport } from '../../transports/sse/index.ts';
import { type StreamAccessPolicy, parsePosition, parseRevision } from '../../transports/streamAccess.ts';
import { principalOf } from '../auth/authenticate.ts';

export interface EventStreamDeps {
  readonly authenticator: Authenticator;
  readonly access: StreamAccessPolicy;
  readonly sse: SseTransport;
}

/** A request's parsed query string (node's `querystring`, as express's "simple" parser). */
export type Query = Record<string, unknown>;

/**
 * `GET /jobs/{id}/events` and `GET /events` (contract §6). Everything that can be refused
 * is checked here, by the stream-access policy the hub shares, before the event stream
 * opens, so a bad request gets a problem document instead of a stream. The exact paths are
 * served before express (`streamRequests.ts`); these routes take the spellings it leaves to
 * express (a trailing slash, another case).
 */
export function eventsRoutes(deps: EventStreamDeps): Router {
  const router = Router();
  router.get('/jobs/:jobId/events', (req, res) => serveJobEvents(deps, req, res, String(req.params['jobId']), req.query));
  router.get('/events', (req, res) => serveFeedEvents(deps, req, res, req.query));
  return router;
}

/** Authenticates the caller (user or stream token), checks the job and resume point, then streams. Throws what is refused. */
export async function serveJobEvents(deps: EventStreamDeps, req: IncomingMessage, res: ServerResponse, jobId: string, query: Query): Promise<void> {
  const caller = await principalOf({ headers: req.headers, query }, deps.authenticator, true);
  const grant = await deps.access.job(caller, jobId);
  const resume = resumePoint(req.headers['last-event-id'] as string | undefined, query['after']);
  const afterRevision = await deps.access.jobResume(grant, resume ? parseRevision(resume.value, resume.field) : null, resume?.field ?? 'after');
  await deps.sse.streamJob(req, res, { principal: caller, jobId: grant.jobId, afterRevision });
}

/** The multi-job feed the caller's token covers, from the resume point on. Throws what is refused. */
export async function serveFeedEvents(deps: EventStreamDeps, req: IncomingMessage, res: ServerResponse, query: Query): Promise<void> {
  const caller = await principalOf({ headers: req.headers, query }, deps.authenticator, true);
  const scope = deps.access.feed(caller);
  const resume = resumePoint(req.headers['last-event-id'] as string | undefined, query['after']);
  const after = await deps.access.feedResume(resume ? parsePosition(resume.value, resume.field) : null, resume?.field ?? 'after');
  await deps.sse.streamFeed(req, res, { principal: caller, scope, after });
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
