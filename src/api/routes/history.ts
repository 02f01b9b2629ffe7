import { Router } from 'express';
import type { Authenticator } from '../../auth/authenticator.ts';
import { jobStreamName } from '../../domain/job/events.ts';
import type { EventStore, RecordedEvent } from '../../store/eventStore.ts';
import { encodePosition } from '../../store/position.ts';
import type { StreamAccessPolicy } from '../../transports/streamAccess.ts';
import { authenticate, principal } from '../auth/authenticate.ts';
import { integerParam } from '../queryParams.ts';

export const MAX_HISTORY_PAGE = 1000;
const DEFAULT_HISTORY_PAGE = 100;

/**
 * `GET /jobs/{id}/history` (contract §7): the raw stream, every event type, in revision
 * order, for owners, admins and auditors. JSON pages, or NDJSON of the whole stream with
 * `Accept: application/x-ndjson` (written with backpressure, so a long export holds no
 * more than a socket buffer in memory).
 */
export function historyRoutes(deps: { authenticator: Authenticator; access: StreamAccessPolicy; store: EventStore }): Router {
  const router = Router();

  router.get('/jobs/:jobId/history', authenticate(deps.authenticator), async (req, res) => {
    const jobId = String(req.params['jobId']);
    await deps.access.job(principal(res), jobId);
    const after = integerParam(req, 'after', { min: 0, max: Number.MAX_SAFE_INTEGER });
    const limit = integerParam(req, 'limit', { min: 1, max: MAX_HISTORY_PAGE }) ?? DEFAULT_HISTORY_PAGE;
    const fromRevision = after === undefined ? 0 : after + 1;
    const stream = jobStreamName(jobId);

    if (req.accepts(['application/json', 'application/x-ndjson']) === 'application/x-ndjson' && wantsNdjson(req.get('accept'))) {
      res.status(200).type('application/x-ndjson').set('Cache-Control', 'no-store');
      for await (const event of deps.store.readStream(stream, { fromRevision })) {
        if (res.destroyed) return;
        if (!res.write(`${JSON.stringify(toAuditEvent(event))}\n`)) await drained(res);
      }
      res.end();
      return;
    }

    const events: RecordedEvent[] = [];
    for await (const event of deps.store.readStream(stream, { fromRevision, maxCount: limit })) events.push(event);
    const head = await deps.store.streamRevision(stream);
    const last = events[events.length - 1];
    res.set('Cache-Control', 'no-store').json({
      job_id: jobId,
      head_revision: head,
      next_after: last ? last.revision : (after ?? null),
      events: events.map(toAuditEvent),
    });
  });

  return router;
}

/** Waits until the socket wants more, or is gone. */
function drained(res: NodeJS.WritableStream & { off(event: string, fn: () => void): unknown }): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

function wantsNdjson(accept: string | undefined): boolean {
  return accept !== undefined && /application\/x-ndjson/i.test(accept);
}

function toAuditEvent(event: RecordedEvent) {
  return {
    revision: event.revision,
    position: encodePosition(event.position),
    type: event.type,
    data: event.data,
    metadata: event.metadata,
    recorded_at: event.recordedAt.toISOString(),
  };
}
