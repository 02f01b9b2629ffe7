import { Router } from 'express';
import type { Authenticator } from '../../auth/authenticator.ts';
import { ValidationError } from '../../errors.ts';
import { type ReadModel, decodeCursor } from '../../projections/readModel.ts';
import { type GlobalPosition, encodePosition } from '../../store/position.ts';
import type { FeedScope, StreamAccessPolicy } from '../../transports/streamAccess.ts';
import { authenticate, principal } from '../auth/authenticate.ts';
import { integerParam, stringParam } from '../queryParams.ts';

export interface JobsDeps {
  readonly authenticator: Authenticator;
  readonly access: StreamAccessPolicy;
  readonly readModel: ReadModel;
  /** The read-model checkpoint: the list reflects every event up to it. */
  readonly readModelPosition: () => GlobalPosition | null;
}

/**
 * `GET /jobs` (paged, newest first) and `GET /jobs/{id}` (the negotiate history). The list
 * also returns `position`, the store position it reflects, so a page can follow
 * `GET /events?after=<position>` with no gap.
 */
export function jobsRoutes(deps: JobsDeps): Router {
  const router = Router();
  const auth = authenticate(deps.authenticator);

  router.get('/jobs', auth, (req, res) => {
    const caller = principal(res);
    const limit = integerParam(req, 'limit', { min: 1, max: 200 }) ?? 50;
    const cursorText = stringParam(req, 'cursor');
    if (cursorText !== undefined) {
      try {
        decodeCursor(cursorText);
      } catch {
        throw new ValidationError('The cursor is not valid.', [{ path: 'cursor', message: 'use next_cursor from a previous page' }]);
      }
    }
    // Read the position first: the page is at least that fresh, so resuming there never skips.
    const position = deps.readModelPosition();
    const page = deps.readModel.listJobs({
      owner: ownerFilter(deps.access.feed(caller)),
      limit,
      cursor: cursorText ?? null,
    });
    res.json({ ...page, position: position ? encodePosition(position) : null });
  });

  router.get('/jobs/:jobId', auth, async (req, res) => {
    const jobId = String(req.params['jobId']);
    const { owner } = await deps.access.job(principal(res), jobId);
    res.json({ job_id: jobId, ...deps.readModel.history(jobId, owner) });
  });

  return router;
}

/** The list shows what the caller's feed would carry: every job, or their own. */
function ownerFilter(scope: FeedScope): string | null {
  return scope.kind === 'all' ? null : scope.userId;
}
