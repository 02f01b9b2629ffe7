import { Router } from 'express';
import type { AuditTrail } from '../../audit/auditTrail.ts';
import type { Authenticator } from '../../auth/authenticator.ts';
import { jobStreamName } from '../../domain/job/events.ts';
import type { EventStore } from '../../store/eventStore.ts';
import type { StreamAccessPolicy } from '../../transports/streamAccess.ts';
import { authenticate, principal } from '../auth/authenticate.ts';
import { integerParam } from '../queryParams.ts';

export const MAX_HISTORY_PAGE = 1000;
const DEFAULT_HISTORY_PAGE = 100;
const NDJSON_CHUNK = 64 * 1024;

/**
 * `GET /jobs/{id}/history` (contract §7): the raw stream, every event type, in revision
 * order, for owners, admins and auditors. JSON pages, or NDJSON of the whole stream with
 * `Accept: application/x-ndjson` (written with backpressure, so a long export holds no
 * more than a socket buffer in memory). Each event carries its chain hashes, and both forms
 * end with a signed checkpoint (§10, docs/audit.md): a `checkpoint` field, or a last line
 * `{"checkpoint": …}`.
 */
export function historyRoutes(deps: { authenticator: Authenticator; access: StreamAccessPolicy; store: EventStore; audit: AuditTrail }): Router {
  const router = Router();

  router.get('/jobs/:jobId/history', authenticate(deps.authenticator), async (req, res) => {
    const jobId = String(req.params['jobId']);
    await deps.access.job(principal(res), jobId);
    const after = integerParam(req, 'after', { min: 0, max: Number.MAX_SAFE_INTEGER });
    const limit = integerParam(req, 'limit', { min: 1, max: MAX_HISTORY_PAGE }) ?? DEFAULT_HISTORY_PAGE;
    const fromRevision = after === undefined ? 0 : after + 1;

    if (req.accepts(['application/json', 'application/x-ndjson']) === 'application/x-ndjson' && wantsNdjson(req.get('accept'))) {
      res.status(200).type('application/x-ndjson').set('Cache-Control', 'no-store');
      const events = deps.audit.history(jobId, { fromRevision });
      // Lines go out in chunks of about 64 KiB: one socket write per line costs more than
      // producing the line.
      let chunk = '';
      for (;;) {
        const next = await events.next();
        if (res.destroyed) {
          await events.return(undefined);
          return;
        }
        if (next.done) {
          if (next.value) chunk += `${JSON.stringify({ checkpoint: next.value })}\n`;
          break;
        }
        chunk += `${JSON.stringify(next.value)}\n`;
        if (chunk.length >= NDJSON_CHUNK) {
          const more = res.write(chunk);
          chunk = '';
          if (!more) await drained(res);
        }
      }
      if (chunk) res.write(chunk);
      res.end();
      return;
    }

    const events = [];
    const reading = deps.audit.history(jobId, { fromRevision, maxCount: limit });
    let next = await reading.next();
    for (; !next.done; next = await reading.next()) events.push(next.value);
    const head = await deps.store.streamRevision(jobStreamName(jobId));
    const last = events[events.length - 1];
    res.set('Cache-Control', 'no-store').json({
      job_id: jobId,
      head_revision: head,
      next_after: last ? last.revision : (after ?? null),
      events,
      checkpoint: next.value ?? null,
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
