import express, { type Request, Router } from 'express';
import type { Authenticator, StreamTokenIssuer } from '../../auth/authenticator.ts';
import type { Principal } from '../../auth/principal.ts';
import { ValidationError } from '../../errors.ts';
import type { ReadModel } from '../../projections/readModel.ts';
import { HUB_NAME, type HubEndpoint } from '../../transports/hubEndpoint.ts';
import { type StreamAccessPolicy, groupsToGrant } from '../../transports/streamAccess.ts';
import { authenticate, principal } from '../auth/authenticate.ts';

export interface NegotiateDeps {
  readonly authenticator: Authenticator;
  readonly streamTokens: StreamTokenIssuer;
  readonly access: StreamAccessPolicy;
  readonly readModel: ReadModel;
  readonly hub: HubEndpoint;
  /** `PUBLIC_URL`; when absent the base URL is derived from the request. */
  readonly publicUrl: string | undefined;
}

/**
 * `POST /signalr/negotiate` and `POST /jobs/{id}/signalr/negotiate` (contract §4): the
 * job's history from the read model, a short-lived stream token scoped to the job's group,
 * the hub URL and the SSE URL. Without a `job_id`, negotiate scopes the token to the
 * caller's multi-job feed (`user:<id>`) and returns no history.
 */
export function negotiateRoutes(deps: NegotiateDeps): Router {
  const router = Router();
  const auth = authenticate(deps.authenticator);

  /** The parts every negotiate answer shares: a stream token for `groups` and the hub to use. */
  async function connectionFor(req: Request, caller: Principal, groups: string[], ssePath: string) {
    const { token, expiresAt } = await deps.streamTokens.issue(caller, groups);
    const { url, accessToken, serverless } = await deps.hub.negotiate({ principal: caller, groups, baseUrl: baseUrl(req), streamToken: token });
    return {
      url,
      accessToken,
      ...(serverless && { serverless: true }),
      hub: HUB_NAME,
      groups,
      sse_url: `${ssePath}?access_token=${encodeURIComponent(token)}`,
      expires_at: expiresAt.toISOString(),
    };
  }

  async function negotiateJob(req: Request, caller: Principal, jobId: string) {
    const grant = await deps.access.job(caller, jobId);
    const connection = await connectionFor(req, caller, groupsToGrant(caller, grant), `/jobs/${encodeURIComponent(jobId)}/events`);
    return { ...connection, history: deps.readModel.history(jobId, grant.owner) };
  }

  function negotiateFeed(req: Request, caller: Principal) {
    return connectionFor(req, caller, groupsToGrant(caller, null), '/events');
  }

  function baseUrl(req: Request): string {
    return deps.publicUrl ?? `${req.protocol}://${req.get('host')}`;
  }

  router.post('/signalr/negotiate', auth, express.json({ limit: '16kb', strict: false }), async (req, res) => {
    const body: unknown = req.body;
    let jobId: unknown;
    if (body !== undefined && body !== null && req.is('application/json')) {
      if (typeof body !== 'object' || Array.isArray(body)) {
        throw new ValidationError('The body must be an object.', [{ path: '', message: 'expected { "job_id": "…" }' }]);
      }
      jobId = (body as { job_id?: unknown }).job_id;
    }
    if (jobId !== undefined && jobId !== null && typeof jobId !== 'string') {
      throw new ValidationError('job_id must be a string.', [{ path: 'job_id', message: 'must be a string' }]);
    }
    const answer = typeof jobId === 'string' ? await negotiateJob(req, principal(res), jobId) : await negotiateFeed(req, principal(res));
    res.set('Cache-Control', 'no-store').json(answer);
  });

  router.post('/jobs/:jobId/signalr/negotiate', auth, async (req, res) => {
    const answer = await negotiateJob(req, principal(res), String(req.params['jobId']));
    res.set('Cache-Control', 'no-store').json(answer);
  });

  return router;
}
