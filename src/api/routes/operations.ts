import { Router } from 'express';
import type { Registry } from 'prom-client';
import type { EventStore } from '../../store/eventStore.ts';

export interface OperationsDeps {
  readonly store: EventStore;
  readonly registry: Registry;
  /** Projection lag counted up to `cap`. */
  readonly projectionLag: (cap: number) => Promise<number>;
  readonly readyMaxLag: number;
  /** False while the server is starting or shutting down. */
  readonly accepting: () => boolean;
}

/** How long one readiness check answers every probe: anyone may ask, so the work is shared. */
const READINESS_REUSE_MS = 1000;

type Readiness =
  | { readonly ready: true; readonly lag: number }
  | { readonly ready: false; readonly reason: 'event store unreachable' }
  | { readonly ready: false; readonly reason: 'projection lag too high'; readonly lag: number };

/** `/healthz`, `/readyz` and `/metrics` (contract §8). */
export function operationsRoutes(deps: OperationsDeps): Router {
  const router = Router();
  let last: { readonly at: number; readonly readiness: Promise<Readiness> } | undefined;

  async function check(): Promise<Readiness> {
    try {
      await deps.store.headPosition();
    } catch {
      return { ready: false, reason: 'event store unreachable' };
    }
    const lag = await deps.projectionLag(deps.readyMaxLag + 1);
    return lag > deps.readyMaxLag ? { ready: false, reason: 'projection lag too high', lag } : { ready: true, lag };
  }

  /**
   * `/readyz` needs no token, and counting the lag reads up to READY_MAX_LAG events: probes
   * arriving together, or within a second, share one check.
   */
  function readiness(): Promise<Readiness> {
    const now = Date.now();
    if (last === undefined || now - last.at >= READINESS_REUSE_MS) {
      last = { at: now, readiness: check() };
    }
    return last.readiness;
  }

  router.get('/healthz', (_req, res) => {
    res.set('Cache-Control', 'no-store').json({ status: 'ok' });
  });

  router.get('/readyz', async (_req, res) => {
    res.set('Cache-Control', 'no-store');
    if (!deps.accepting()) {
      res.status(503).json({ status: 'unavailable', reason: 'shutting down' });
      return;
    }
    const state = await readiness();
    if (state.ready) res.json({ status: 'ready', projection_lag: state.lag });
    else if (state.reason === 'projection lag too high') {
      res.status(503).json({ status: 'unavailable', reason: state.reason, projection_lag: state.lag, max_lag: deps.readyMaxLag });
    } else res.status(503).json({ status: 'unavailable', reason: state.reason });
  });

  router.get('/metrics', async (_req, res) => {
    res.set('Content-Type', deps.registry.contentType).send(await deps.registry.metrics());
  });

  return router;
}
