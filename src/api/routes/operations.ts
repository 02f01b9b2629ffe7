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

/** `/healthz`, `/readyz` and `/metrics` (contract §8). */
export function operationsRoutes(deps: OperationsDeps): Router {
  const router = Router();

  router.get('/healthz', (_req, res) => {
    res.set('Cache-Control', 'no-store').json({ status: 'ok' });
  });

  router.get('/readyz', async (_req, res) => {
    res.set('Cache-Control', 'no-store');
    if (!deps.accepting()) {
      res.status(503).json({ status: 'unavailable', reason: 'shutting down' });
      return;
    }
    try {
      await deps.store.headPosition();
    } catch {
      res.status(503).json({ status: 'unavailable', reason: 'event store unreachable' });
      return;
    }
    const lag = await deps.projectionLag(deps.readyMaxLag + 1);
    if (lag > deps.readyMaxLag) {
      res.status(503).json({ status: 'unavailable', reason: 'projection lag too high', projection_lag: lag, max_lag: deps.readyMaxLag });
      return;
    }
    res.json({ status: 'ready', projection_lag: lag });
  });

  router.get('/metrics', async (_req, res) => {
    res.set('Content-Type', deps.registry.contentType).send(await deps.registry.metrics());
  });

  return router;
}
