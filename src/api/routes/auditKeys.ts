import { Router } from 'express';
import type { Jwks } from '../../audit/auditKeys.ts';

/**
 * `GET /.well-known/statuscast-audit-keys.json`: the public keys that verify the signed
 * checkpoints of history exports (docs/audit.md). Public, like any JWKS: it lets anyone check
 * a signature and lets no one make one.
 */
export function auditKeysRoutes(deps: { jwks: Jwks }): Router {
  const router = Router();
  router.get('/.well-known/statuscast-audit-keys.json', (_req, res) => {
    res.set('Cache-Control', 'public, max-age=300').json(deps.jwks);
  });
  return router;
}
